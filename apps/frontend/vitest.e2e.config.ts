import { defineConfig } from 'vitest/config';

/** Browser tests: real apps, a real build, headless Chromium. One file at a time (2 shared cores). */
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['./e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
