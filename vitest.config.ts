import { defineConfig } from 'vitest/config';

// One runner for the whole repo. chDB is a native addon bound to one data directory per process, so every
// test file runs in its own forked process (DESIGN §7), never in worker threads.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'sdk/src/**/*.test.ts',
            'gateway/src/**/*.test.ts',
            'sink/src/**/*.test.ts',
            'store/src/**/*.test.ts',
            'queries/src/**/*.test.ts',
            'cli/src/**/*.test.ts',
          ],
          // Some unit files open chDB and run every migration (backfills included): seconds on a quiet machine,
          // more when the 2 cores are shared.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'examples/*/e2e/**/*.test.ts'],
          globalSetup: ['test/setup/kafka.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Integration files share one broker and this 2-core machine; running them one at a time keeps
          // timings honest and failures readable.
          fileParallelism: false,
        },
      },
    ],
  },
});
