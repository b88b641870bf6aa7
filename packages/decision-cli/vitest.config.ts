import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The CLI tests spawn node and run the sensitivity search; the CI machine is shared.
    testTimeout: 60_000,
  },
});
