import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Timing-sensitive engine tests and real servers: keep files sequential on this small machine.
    fileParallelism: false,
  },
});
