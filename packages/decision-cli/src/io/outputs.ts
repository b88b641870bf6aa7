import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ConflictError, InputError } from '../core/errors';

// Kernel pseudo-filesystems: writes there either fail oddly or block, never produce a file.
const PSEUDO = ['/proc', '/sys', '/dev'];

function nearestExisting(path: string): string {
  let current = resolve(path);
  while (!existsSync(current)) {
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

/** Creates and removes a probe file: the only reliable test that a folder takes new files (root ignores modes). */
function probe(dir: string, shown: string): void {
  const path = join(dir, `.archbench-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(path, 'wx'));
    unlinkSync(path);
  } catch (error) {
    throw new InputError(`${shown}: cannot write there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * Checks, before anything is scored or written, that a folder exists or can be created and takes
 * new files. Throws InputError naming the flag and the problem.
 * @example checkOutputDir('docs/decisions', '--dir docs/decisions')
 */
export function checkOutputDir(path: string, shown: string): void {
  const abs = resolve(path);
  if (PSEUDO.some((p) => abs === p || abs.startsWith(`${p}${sep}`)))
    throw new InputError(`${shown}: ${abs} is on a kernel pseudo-filesystem; choose a normal folder`);
  const existing = nearestExisting(abs);
  let stat;
  try {
    stat = statSync(existing);
  } catch (error) {
    throw new InputError(`${shown}: cannot use ${existing} (${(error as NodeJS.ErrnoException).code})`);
  }
  if (!stat.isDirectory())
    throw new InputError(existing === abs ? `${shown}: is a file, not a folder` : `${shown}: ${existing} is a file, so no folder can be created under it`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new InputError(`${shown}: ${existing} is not writable`);
  }
  probe(existing, shown);
}

/**
 * Checks that a file can be written: not a folder, its folder usable (see checkOutputDir).
 * @example checkOutputFile('results/decision.html', '--html results/decision.html')
 */
export function checkOutputFile(path: string, shown: string, options: { exclusive?: boolean } = {}): void {
  const abs = resolve(path);
  if (existsSync(abs)) {
    const stat = statSync(abs);
    if (stat.isDirectory()) throw new InputError(`${shown}: is a folder; give a file name inside it`);
    if (options.exclusive) throw new ConflictError(`${shown}: already exists; refusing to overwrite it`);
    try {
      accessSync(abs, constants.W_OK);
    } catch {
      throw new InputError(`${shown}: is not writable`);
    }
  }
  checkOutputDir(dirname(abs), shown);
}

interface Pending {
  path: string;
  content: string;
  exclusive: boolean;
  temp?: string;
  backup?: string;
  done?: boolean;
}

/**
 * A set of files written all or nothing: every file goes to a temporary file beside its target
 * first, then all are renamed into place; if anything fails, what was already placed is undone
 * (new files removed, replaced files restored) and created folders removed again.
 * @example const batch = new OutputBatch(); batch.add(adr, text, { exclusive: true }); batch.add(index, idx); batch.commit();
 */
export class OutputBatch {
  private readonly files: Pending[] = [];
  private readonly createdDirs: string[] = [];

  add(path: string, content: string, options: { exclusive?: boolean } = {}): void {
    this.files.push({ path: resolve(path), content, exclusive: options.exclusive ?? false });
  }

  get paths(): string[] {
    return this.files.map((f) => f.path);
  }

  /** Writes everything or nothing; rethrows the first error after undoing. */
  commit(): void {
    try {
      for (const f of this.files) {
        this.mkdirs(dirname(f.path));
        f.temp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
        const fd = openSync(f.temp, 'wx');
        try {
          writeSync(fd, f.content);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      for (const f of this.files) {
        const temp = f.temp!;
        if (f.exclusive) {
          try {
            linkSync(temp, f.path); // fails atomically when the target exists
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`${f.path} already exists; refusing to overwrite it`);
            throw error;
          }
          unlinkSync(temp);
        } else {
          if (existsSync(f.path)) {
            f.backup = `${temp}.bak`;
            linkSync(f.path, f.backup);
          }
          renameSync(temp, f.path);
        }
        f.temp = undefined;
        f.done = true;
      }
    } catch (error) {
      this.undo();
      throw error instanceof InputError
        ? error
        : new InputError(`cannot write ${this.current() ?? 'the outputs'}: ${(error as Error).message}; nothing was written`);
    }
    for (const f of this.files) if (f.backup) tryUnlink(f.backup);
  }

  private current(): string | undefined {
    return this.files.find((f) => !f.done)?.path;
  }

  private mkdirs(dir: string): void {
    const missing: string[] = [];
    let current = dir;
    while (!existsSync(current)) {
      missing.unshift(current);
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
    }
    for (const d of missing) {
      mkdirSync(d);
      this.createdDirs.push(d);
    }
  }

  private undo(): void {
    for (const f of [...this.files].reverse()) {
      if (f.temp) tryUnlink(f.temp);
      if (f.done) {
        if (f.backup) {
          try {
            renameSync(f.backup, f.path);
          } catch {
            // the backup stays beside the file; better than losing it
          }
        } else {
          tryUnlink(f.path);
        }
      } else if (f.backup) {
        tryUnlink(f.backup);
      }
    }
    for (const d of [...this.createdDirs].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // not empty: someone else wrote there meanwhile
      }
    }
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
