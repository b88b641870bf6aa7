import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TSX_LOADER } from '@archbench/topologies';
import { describe, expect, it } from 'vitest';

// The flag is checked before valgrind is looked for or any server starts, so these exit at once.
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', TSX_LOADER, join(import.meta.dirname, 'instructions.ts'), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('bench:instructions --last-level-kb', () => {
  it('exits 2 with a message, no stack trace, on a size valgrind cannot simulate or without --cache-sim', () => {
    for (const args of [
      ['--cache-sim', '--last-level-kb', '1000'],
      ['--cache-sim', '--last-level-kb', '32'],
      ['--last-level-kb', '1024'],
    ]) {
      const result = run(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('--last-level-kb needs --cache-sim and a power of two of at least 64');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    // Three tsx start-ups in a row: about 1.5 s each alone, over 5 s on a loaded CI machine.
  }, 60_000);
});
