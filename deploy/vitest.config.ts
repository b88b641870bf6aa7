import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Real servers are started by some files: keep files sequential on a small shared machine.
    fileParallelism: false,
  },
});
