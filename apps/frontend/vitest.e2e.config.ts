import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Browser tests need Debian's Chromium (never downloaded). Without it they skip with a message,
// unless ARCHBENCH_REQUIRE_SERVICES=1 (CI), where the missing browser fails the run.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = !existsSync(chromium) && process.env.ARCHBENCH_REQUIRE_SERVICES !== '1';
if (skip) {
  process.stderr.write(`SKIP: browser tests need Chromium at ${chromium} (apt-get install -y chromium, or set CHROMIUM_PATH)\n`);
}

/** Browser tests: real apps, a real build, headless Chromium. One file at a time (2 shared cores). */
export default defineConfig({
  test: {
    include: skip ? [] : ['e2e/**/*.test.ts'],
    passWithNoTests: skip,
    environment: 'node',
    globalSetup: skip ? [] : ['./e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
