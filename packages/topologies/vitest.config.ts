import { defineConfig } from 'vitest/config';

// Every test starts real server processes; one file at a time keeps a shared 2-core machine
// from turning timeouts into flakes.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
