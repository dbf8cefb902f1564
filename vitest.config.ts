import { defineConfig } from 'vitest/config';

// Tests run real ffmpeg and onnxruntime work on a 2-core machine: generous timeouts,
// and at most two test files at once so that timing-sensitive code is not starved.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
