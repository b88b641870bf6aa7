import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { addMoreInformation, pad, parseAdr, renderIndex, setAdrStatus, slugify, type AdrEntry } from '../core/adr';
import { ConflictError, InputError } from '../core/errors';
import { readText, writeFileAtomic } from './files';

const ADR_FILE = /^(\d{4})-(.+)\.md$/;

/**
 * A folder of MADR records named NNNN-title.md with a README.md index.
 * @example const log = new AdrLog('docs/decisions'); log.create('Use PostgreSQL', (n) => text);
 */
export class AdrLog {
  constructor(readonly dir: string) {}

  /**
   * Problems found while listing that do not stop anything: records without front matter
   * (optional in MADR; listed with status `unknown`) and numbers used twice.
   */
  warnings: string[] = [];

  /** Every record, oldest first. */
  list(): AdrEntry[] {
    if (!existsSync(this.dir)) return [];
    if (!statSync(this.dir).isDirectory()) throw new InputError(`${this.dir} is not a folder; pass the decisions folder with --dir`);
    const warnings: string[] = [];
    const entries = readdirSync(this.dir)
      .map((file) => ({ file, match: ADR_FILE.exec(file) }))
      .filter((x): x is { file: string; match: RegExpExecArray } => x.match !== null)
      .map(({ file, match }) => {
        let parsed: ReturnType<typeof parseAdr>;
        try {
          parsed = parseAdr(readText(join(this.dir, file), 'ADR'), file, { frontMatterOptional: true });
        } catch (error) {
          warnings.push(`${file}: ${(error as Error).message.replace(`${file}: `, '')}; listed with status unknown`);
          parsed = { frontMatter: {}, body: '', title: file, hasFrontMatter: false };
        }
        if (!parsed.hasFrontMatter && !warnings.some((w) => w.startsWith(`${file}:`)))
          warnings.push(`${file} has no YAML front matter; listed with status unknown`);
        const { frontMatter, title } = parsed;
        return {
          number: Number(match[1]),
          file,
          title,
          status: String(frontMatter.status ?? 'unknown'),
          date: frontMatter.date instanceof Date ? frontMatter.date.toISOString().slice(0, 10) : String(frontMatter.date ?? ''),
        };
      })
      .sort((a, b) => a.number - b.number || a.file.localeCompare(b.file));
    const seen = new Map<number, string[]>();
    for (const e of entries) seen.set(e.number, [...(seen.get(e.number) ?? []), e.file]);
    for (const [n, files] of seen)
      if (files.length > 1) warnings.push(`ADR number ${pad(n)} is used ${files.length} times (${files.join(', ')}); renumber all but one`);
    this.warnings = warnings;
    return entries;
  }

  /** The number and file a new record with this title would get. */
  next(title: string): { number: number; file: string } {
    const number = (this.list().at(-1)?.number ?? 0) + 1;
    return { number, file: `${pad(number)}-${slugify(title)}.md` };
  }

  /** Finds a record by number (`3`, `0003`) or file name/path. */
  find(ref: string): AdrEntry {
    const entries = this.list();
    const sameNumber = /^\d+$/.test(ref) ? entries.filter((e) => e.number === Number(ref)) : [];
    if (sameNumber.length > 1)
      throw new InputError(`ADR number ${pad(Number(ref))} is ambiguous (${sameNumber.map((e) => e.file).join(', ')}); pass the file name`);
    const byNumber = sameNumber[0];
    const base = ref.split(/[\\/]/).pop();
    const found = byNumber ?? entries.find((e) => e.file === base);
    if (!found)
      throw new InputError(
        `no ADR ${JSON.stringify(ref)} in ${this.dir}${entries.length ? ` (have ${entries.map((e) => pad(e.number)).join(', ')})` : ' (the folder has no records)'}`,
      );
    return found;
  }

  path(entry: AdrEntry): string {
    return join(this.dir, entry.file);
  }

  read(entry: AdrEntry): string {
    return readText(this.path(entry), 'ADR');
  }

  /**
   * Writes a new record under the next free number; never overwrites. When another writer takes
   * the number first, tries the next one.
   */
  create(title: string, render: (number: number, file: string) => string): AdrEntry {
    for (let attempt = 0; attempt < 20; attempt++) {
      const number = (this.list().at(-1)?.number ?? 0) + 1 + attempt;
      const file = `${pad(number)}-${slugify(title)}.md`;
      try {
        writeFileAtomic(join(this.dir, file), render(number, file), { exclusive: true });
      } catch (error) {
        if (error instanceof ConflictError) continue;
        throw error;
      }
      this.writeIndex();
      return this.find(String(number));
    }
    throw new ConflictError(`could not find a free ADR number in ${this.dir}`);
  }

  /** Changes a record's status (and date), then the index. */
  setStatus(ref: string, status: string, date: string): AdrEntry {
    const entry = this.find(ref);
    // Its body links to the record that replaced it; a new status would leave that link standing.
    const by = /^superseded by (ADR-\d+)/.exec(entry.status);
    if (by)
      throw new InputError(
        `ADR-${pad(entry.number)} is superseded by ${by[1]}; its status stays so (both records link to each other). To reverse the decision, record a new one that supersedes ${by[1]}`,
      );
    writeFileAtomic(this.path(entry), setAdrStatus(this.read(entry), status, entry.file, date));
    this.writeIndex();
    return this.find(ref);
  }

  /**
   * Refuses to supersede `old` by another record than the one that already supersedes it.
   * @example log.checkSupersedable(log.find('3')) // throws when ADR-0003 is superseded already
   */
  checkSupersedable(old: AdrEntry, by?: number): void {
    const already = supersededBy(old);
    if (already !== undefined && already !== by) throw new InputError(`ADR-${pad(old.number)} is already superseded by ADR-${pad(already)}`);
  }

  /** The texts `supersede` would write, without writing them (for an all-or-nothing batch). */
  supersedeTexts(old: AdrEntry, replacement: { number: number; file: string }, replacementText: string, date: string): { oldText: string; newText: string } {
    this.checkSupersedable(old, replacement.number);
    let oldText = setAdrStatus(this.read(old), `superseded by ADR-${pad(replacement.number)}`, old.file, date);
    oldText = addMoreInformation(oldText, `Superseded by [ADR-${pad(replacement.number)}](${replacement.file}).`);
    const newText = addMoreInformation(replacementText, `Supersedes [ADR-${pad(old.number)}](${old.file}).`);
    return { oldText, newText };
  }

  /** Marks `oldRef` superseded by `newRef` and links both records to each other. */
  supersede(oldRef: string, newRef: string, date: string): { old: AdrEntry; replacement: AdrEntry } {
    const old = this.find(oldRef);
    const replacement = this.find(newRef);
    if (old.number === replacement.number) throw new InputError(`an ADR cannot supersede itself (${pad(old.number)})`);
    this.checkSupersedable(old, replacement.number);
    // A superseded record replaces nothing: `supersede 1 2` then `supersede 2 1` would make a loop.
    const replaced = supersededBy(replacement);
    if (replaced !== undefined)
      throw new InputError(`ADR-${pad(replacement.number)} is itself superseded by ADR-${pad(replaced)}, so it cannot supersede ADR-${pad(old.number)}`);
    // Prepare both texts before writing either, so a bad record leaves both untouched.
    let oldText = setAdrStatus(this.read(old), `superseded by ADR-${pad(replacement.number)}`, old.file, date);
    oldText = addMoreInformation(oldText, `Superseded by [ADR-${pad(replacement.number)}](${replacement.file}).`);
    const newText = addMoreInformation(this.read(replacement), `Supersedes [ADR-${pad(old.number)}](${old.file}).`);
    writeFileAtomic(this.path(old), oldText);
    writeFileAtomic(this.path(replacement), newText);
    this.writeIndex();
    return { old: this.find(String(old.number)), replacement: this.find(String(replacement.number)) };
  }

  /** Rewrites README.md from the records. */
  writeIndex(): string {
    const path = join(this.dir, 'README.md');
    writeFileAtomic(path, renderIndex(this.list()));
    return path;
  }
}

/** The number of the record that supersedes `entry`, from its status; undefined when none does. */
function supersededBy(entry: AdrEntry): number | undefined {
  const match = /^superseded by ADR-(\d+)/.exec(entry.status);
  return match ? Number(match[1]) : undefined;
}
