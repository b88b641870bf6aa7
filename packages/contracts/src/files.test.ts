import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileExistsError, writeFileAtomic } from './files';

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes into a new directory and replaces an existing file, leaving no temp file behind', () => {
    const path = join(dir, 'out', 'comparison.json');
    writeFileAtomic(path, 'one');
    writeFileAtomic(path, 'two');
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'out'))).toEqual(['comparison.json']);
  });

  it('with exclusive, refuses an existing file and keeps its content', () => {
    const path = join(dir, '0001-x.md');
    writeFileAtomic(path, 'first', { exclusive: true });
    expect(() => writeFileAtomic(path, 'second', { exclusive: true })).toThrow(FileExistsError);
    expect(readFileSync(path, 'utf8')).toBe('first');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
