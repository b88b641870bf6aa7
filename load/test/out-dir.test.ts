import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareOutDir, removeFolders, writeFilesTogether } from '../src/cli/out-dir';
import { UsageError } from '../src/compare/args';
import { CompareRunError } from '../src/compare/runner';

const work = mkdtempSync(join(tmpdir(), 'archbench-out-dir-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('prepareOutDir', () => {
  it('creates the folder with its parents, leaves no probe file, and says which folders it created', () => {
    const out = join(work, 'a', 'b', 'c');
    expect(prepareOutDir(out)).toEqual([out, join(work, 'a', 'b'), join(work, 'a')]);
    expect(readdirSync(out)).toEqual([]);
    // An existing folder: nothing created, nothing left.
    expect(prepareOutDir(out)).toEqual([]);
    expect(readdirSync(out)).toEqual([]);
    removeFolders([out, join(work, 'a', 'b'), join(work, 'a')]);
    expect(existsSync(join(work, 'a'))).toBe(false);
  });

  it('refuses a path below a file, or a file, as a usage error naming the path', () => {
    const file = join(work, 'file');
    writeFileSync(file, 'x');
    expect(() => prepareOutDir(join(file, 'x'))).toThrow(UsageError);
    expect(() => prepareOutDir(join(file, 'x'))).toThrow(`--out ${join(file, 'x')}: cannot create the folder (ENOTDIR)`);
    expect(() => prepareOutDir(file)).toThrow(`--out ${file} exists and is not a folder`);
  });

  it('refuses a path under /proc at once (a recursive mkdir never returns there) and leaves nothing behind', () => {
    const out = `/proc/archbench-out-${process.pid}/a`;
    expect(() => prepareOutDir(out)).toThrow(`--out ${out}: cannot create the folder (ENOENT)`);
    // A failure below folders it created removes them again.
    const tooLong = join(work, 'made', 'x'.repeat(300));
    expect(() => prepareOutDir(tooLong)).toThrow(`--out ${tooLong}: cannot create the folder (ENAMETOOLONG)`);
    expect(existsSync(join(work, 'made'))).toBe(false);
  });
});

describe('writeFilesTogether', () => {
  const pair = (summary: string, comparison: string) =>
    [
      ['summary.md', summary],
      ['comparison.json', comparison],
    ] as const;

  it('writes every file and leaves no temporary file', () => {
    const out = join(work, 'ok');
    writeFilesTogether(out, pair('new summary', '{"new":true}'));
    expect(readdirSync(out).sort()).toEqual(['comparison.json', 'summary.md']);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toBe('new summary');
    expect(readFileSync(join(out, 'comparison.json'), 'utf8')).toBe('{"new":true}');
  });

  it('changes no file when one cannot be written, and removes the temporary ones', () => {
    const out = join(work, 'write-fails');
    mkdirSync(out);
    writeFileSync(join(out, 'summary.md'), 'old summary');
    writeFileSync(join(out, 'comparison.json'), 'old comparison');
    // The second file's temporary name lies in a folder that does not exist: its write fails after the first one's.
    const files = [
      ['summary.md', 'new summary'],
      ['missing/comparison.json', 'new comparison'],
    ] as const;
    expect(() => writeFilesTogether(out, files)).toThrow(CompareRunError);
    expect(() => writeFilesTogether(out, files)).toThrow(`cannot write the results to ${out}: ENOENT`);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toBe('old summary');
    expect(readFileSync(join(out, 'comparison.json'), 'utf8')).toBe('old comparison');
    expect(readdirSync(out).sort()).toEqual(['comparison.json', 'summary.md']);
  });

  it('never leaves a new comparison.json beside a stale summary.md when a rename fails', () => {
    const out = join(work, 'rename-fails');
    // summary.md cannot be replaced (a folder with a file in it): comparison.json, renamed after it, stays old.
    mkdirSync(join(out, 'summary.md'), { recursive: true });
    writeFileSync(join(out, 'summary.md', 'keep'), '');
    writeFileSync(join(out, 'comparison.json'), 'old comparison');
    expect(() => writeFilesTogether(out, pair('new summary', 'new comparison'))).toThrow(CompareRunError);
    expect(readFileSync(join(out, 'comparison.json'), 'utf8')).toBe('old comparison');
    expect(readdirSync(out).sort()).toEqual(['comparison.json', 'summary.md']);
  });
});
