import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** `writeFileAtomic(…, { exclusive: true })` found the target already there; nothing was written. */
export class FileExistsError extends Error {
  override readonly name = 'FileExistsError';
  constructor(readonly path: string) {
    super(`${path} already exists; refusing to overwrite it`);
  }
}

export interface WriteFileAtomicOptions {
  /** Refuse to replace an existing file (FileExistsError). */
  exclusive?: boolean;
}

function writeTemp(path: string, content: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

/**
 * Writes a file atomically (temp file beside it, fsync, rename), so readers never see half a
 * file; creates the directory. With `exclusive`, link(2) fails atomically when the target exists,
 * so of two writers only one can win. Shared by the decision CLI and the load runner.
 * @example writeFileAtomic('results/comparison.json', json)
 */
export function writeFileAtomic(path: string, content: string, options: WriteFileAtomicOptions = {}): void {
  const temp = writeTemp(path, content);
  try {
    if (options.exclusive) {
      try {
        linkSync(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(path);
        throw error;
      }
      unlinkSync(temp);
    } else {
      renameSync(temp, path);
    }
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone (renamed, or linked and removed)
    }
    throw error;
  }
}
