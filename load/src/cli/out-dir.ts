// The --out folder of `pnpm compare`: checked before a run starts, written all at once at its end.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../compare/args';
import { CompareRunError } from '../compare/runner';

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/** Removes folders this run created (deepest first), as long as they are empty; best effort. */
export function removeFolders(folders: readonly string[]): void {
  for (const folder of folders) {
    try {
      rmdirSync(folder);
    } catch {
      return;
    }
  }
}

/**
 * Creates `--out` with its parents and proves a file can be written there (writes and deletes a
 * probe file), before anything starts: a bad `--out` is a usage error, not a run lost at the
 * end. Returns the folders it created, deepest first, so a failed run can remove them again.
 */
export function prepareOutDir(outDir: string): string[] {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out ${outDir} exists and is not a folder`);
  // One level at a time from the deepest folder that exists, not mkdirSync's `recursive`: that one
  // never returns for a path under /proc (Node 24), this one fails there with ENOENT.
  const missing: string[] = [];
  for (let folder = outDir; !existsSync(folder) && dirname(folder) !== folder; folder = dirname(folder)) missing.push(folder);
  const created: string[] = [];
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      removeFolders(created);
      throw new UsageError(`--out ${outDir}: cannot create the folder (${errorCode(error)})`);
    }
    created.unshift(folder);
  }
  const probe = join(outDir, `.archbench-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(probe, 'wx');
    try {
      writeSync(fd, 'probe\n');
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (error) {
    try {
      unlinkSync(probe);
    } catch {
      // never created
    }
    removeFolders(created);
    throw new UsageError(`--out ${outDir}: cannot write a file there (${errorCode(error)})`);
  }
  return created;
}

/**
 * Writes every file to a temporary name in `folder` (fsync'd) before renaming any into place, in
 * the order given: a failure while writing leaves the old files as they were, and a failed rename
 * never leaves a later file (comparison.json) newer than an earlier one (summary.md). Temporary
 * files are removed on failure; a CompareRunError names the folder and the error code.
 */
export function writeFilesTogether(folder: string, files: readonly (readonly [name: string, content: string])[]): void {
  const temps: string[] = [];
  try {
    mkdirSync(folder, { recursive: true });
    for (const [name, content] of files) {
      const temp = join(folder, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      const fd = openSync(temp, 'wx');
      temps.push(temp);
      try {
        writeSync(fd, content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    for (const [index, [name]] of files.entries()) renameSync(temps[index]!, join(folder, name));
  } catch (error) {
    for (const temp of temps) {
      try {
        unlinkSync(temp);
      } catch {
        // already renamed into place
      }
    }
    throw new CompareRunError(`cannot write the results to ${folder}: ${errorCode(error)}`);
  }
}
