import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    // Two workers on the two cores: the suite is mostly child processes, servers and timers
    // waiting, so one worker leaves a core idle (422 s against 511 s in session 6's measurement).
    maxWorkers: 2,
    // CI reads the counts from the JSON report (.ci/run); people read the default reporter.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.tmp/vitest-report.json' }]]
      : ['default'],
  },
});
