import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FRONTEND_DIR, SCREENSHOT_DIR } from './helpers';

/** The browser tests run against the production build (as `pnpm build` makes it), served by server.ts: build it once. */
export default function setup() {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  execFileSync(join(FRONTEND_DIR, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], {
    cwd: FRONTEND_DIR,
    stdio: 'inherit',
  });
}
