import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // After the last file: no ffmpeg of the suite's may outlive it.
    globalSetup: ['test/global-setup.ts'],
    // Integration tests start real servers, ffmpeg and model workers; the
    // machine has 2 cores, so run two files at a time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
