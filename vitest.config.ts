import { defineConfig } from 'vitest/config';

// What every project runs with. Integration and slow tests start real
// servers, ffmpeg and model workers; forks, so each test file is a process
// of its own (the test helpers register their cleanups once per file).
const common = {
  pool: 'forks' as const,
  // A move outside the ingest state tables fails the test that made it.
  setupFiles: ['test/setup/state-moves.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // After the last file of the whole run: no ffmpeg of the suite's may
    // outlive it. Here, not in the projects, so it runs once per run.
    globalSetup: ['test/global-setup.ts'],
    // The machine has 2 cores: two files at a time, over all projects.
    maxWorkers: 2,
    // `npm test` and CI run them all; `npx vitest --project unit` is the fast loop.
    projects: [
      { test: { ...common, name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { ...common, name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      // Fault injection (disks, model servers, hostile clients, the leak gauntlet) and the browser.
      { test: { ...common, name: 'slow', include: ['test/faults/**/*.test.ts', 'test/e2e/**/*.test.ts'] } },
    ],
  },
});
