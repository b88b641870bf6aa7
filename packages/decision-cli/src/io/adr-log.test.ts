import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers';
import { parseAdr, renderTemplateAdr } from '../core/adr';
import { ConflictError, InputError } from '../core/errors';
import { AdrLog } from './adr-log';
import { writeFileAtomic } from './files';

let tmp: ReturnType<typeof tempDir>;
let log: AdrLog;
const template = (title: string) => () => renderTemplateAdr({ title, date: '2025-05-01', status: 'proposed', people: {} });

beforeEach(() => {
  tmp = tempDir();
  log = new AdrLog(join(tmp.dir, 'docs', 'decisions'));
});
afterEach(() => tmp.cleanup());

describe('AdrLog', () => {
  it('numbers new records NNNN-title.md and keeps the README index current', () => {
    const a = log.create('Use a modular monolith', template('Use a modular monolith'));
    const b = log.create('Use PostgreSQL', template('Use PostgreSQL'));
    expect([a.file, b.file]).toEqual(['0001-use-a-modular-monolith.md', '0002-use-postgresql.md']);
    expect(log.list().map((e) => [e.number, e.title, e.status, e.date])).toEqual([
      [1, 'Use a modular monolith', 'proposed', '2025-05-01'],
      [2, 'Use PostgreSQL', 'proposed', '2025-05-01'],
    ]);
    const index = readFileSync(join(log.dir, 'README.md'), 'utf8');
    expect(index).toContain('| [0001](0001-use-a-modular-monolith.md) | Use a modular monolith | proposed | 2025-05-01 |');
    expect(index).toContain('| [0002](0002-use-postgresql.md) | Use PostgreSQL | proposed | 2025-05-01 |');
  });

  it('never overwrites an existing record: a taken number moves to the next one', () => {
    log.create('First', template('First'));
    // Another writer created 0002 with the same slug between our listing and our write.
    writeFileSync(join(log.dir, '0002-second.md'), renderTemplateAdr({ title: 'Someone else', date: '2025-05-01', status: 'accepted', people: {} }));
    const before = readFileSync(join(log.dir, '0002-second.md'), 'utf8');
    const created = log.create('Second', template('Second'));
    expect(created.file).toBe('0003-second.md');
    expect(readFileSync(join(log.dir, '0002-second.md'), 'utf8')).toBe(before);
  });

  it('writeFileAtomic with exclusive refuses an existing file and leaves no temp files', () => {
    const path = join(tmp.dir, 'x.md');
    writeFileAtomic(path, 'one', { exclusive: true });
    expect(() => writeFileAtomic(path, 'two', { exclusive: true })).toThrow(ConflictError);
    expect(readFileSync(path, 'utf8')).toBe('one');
    expect(readdirSync(tmp.dir)).toEqual(['x.md']);
  });

  it('changes status and date, and updates the index', () => {
    log.create('Use PostgreSQL', template('Use PostgreSQL'));
    const entry = log.setStatus('1', 'accepted', '2025-06-01');
    expect(entry).toMatchObject({ status: 'accepted', date: '2025-06-01' });
    expect(readFileSync(join(log.dir, 'README.md'), 'utf8')).toContain('| accepted | 2025-06-01 |');
  });

  it('supersedes with links written both ways', () => {
    log.create('Use a modular monolith', template('Use a modular monolith'));
    log.create('Use a hybrid', template('Use a hybrid'));
    const { old, replacement } = log.supersede('1', '0002', '2025-07-01');
    expect(old.status).toBe('superseded by ADR-0002');
    expect(replacement.status).toBe('proposed');
    const oldText = readFileSync(join(log.dir, old.file), 'utf8');
    const newText = readFileSync(join(log.dir, replacement.file), 'utf8');
    expect(parseAdr(oldText, old.file).frontMatter).toMatchObject({ status: 'superseded by ADR-0002', date: '2025-07-01' });
    expect(oldText).toContain('Superseded by [ADR-0002](0002-use-a-hybrid.md).');
    expect(newText).toContain('Supersedes [ADR-0001](0001-use-a-modular-monolith.md).');
    expect(readFileSync(join(log.dir, 'README.md'), 'utf8')).toContain('| superseded by ADR-0002 | 2025-07-01 |');
    // Repeating it changes nothing.
    log.supersede('1', '2', '2025-07-01');
    expect(readFileSync(join(log.dir, old.file), 'utf8')).toBe(oldText);
  });

  it('refuses nonsense supersessions and unknown records without writing', () => {
    log.create('A', template('A'));
    log.create('B', template('B'));
    log.create('C', template('C'));
    log.supersede('1', '2', '2025-07-01');
    const snapshot = readdirSync(log.dir).map((f) => readFileSync(join(log.dir, f), 'utf8'));
    expect(() => log.supersede('1', '3', '2025-07-01')).toThrow(/ADR-0001 is already superseded by ADR-0002/);
    expect(() => log.supersede('2', '2', '2025-07-01')).toThrow(/cannot supersede itself/);
    // No loops: ADR-0001 is superseded, so it cannot supersede ADR-0002 back (nor ADR-0003).
    expect(() => log.supersede('2', '1', '2025-07-01')).toThrow(/ADR-0001 is itself superseded by ADR-0002, so it cannot supersede ADR-0002/);
    expect(() => log.supersede('3', '1', '2025-07-01')).toThrow(/ADR-0001 is itself superseded by ADR-0002/);
    // A superseded record keeps its status: its body links to its replacement.
    expect(() => log.setStatus('1', 'accepted', '2025-07-01')).toThrow(/ADR-0001 is superseded by ADR-0002; its status stays so/);
    expect(() => log.setStatus('9', 'accepted', '2025-07-01')).toThrow(InputError);
    expect(() => log.find('9')).toThrow(/no ADR "9" in .* \(have 0001, 0002, 0003\)/);
    expect(readdirSync(log.dir).map((f) => readFileSync(join(log.dir, f), 'utf8'))).toEqual(snapshot);
  });

  it('lists nothing for a folder that does not exist yet', () => {
    expect(log.list()).toEqual([]);
  });
});
