import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FRONTEND_DIR, SCREENSHOT_DIR } from './helpers';

/** The browser tests run against the production build, served by server.ts: build it once. */
export default function setup() {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  execFileSync(join(FRONTEND_DIR, 'node_modules/.bin/vite'), ['build', '--configLoader', 'runner', '--logLevel', 'warn'], {
    cwd: FRONTEND_DIR,
    stdio: 'inherit',
  });
}
