import { defineConfig } from 'vitest/config';

// Test files start real processes and databases; one file at a time on a small shared machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
