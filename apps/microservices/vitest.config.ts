import { defineConfig } from 'vitest/config';

// Each test file starts five real processes; running files one at a time keeps a shared 2-core
// machine from turning timeouts into flakes.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
