import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    // Timing-sensitive router tests (handler timeouts) are more stable without
    // two heavy files competing for the 2 cores.
    fileParallelism: true,
  },
});
