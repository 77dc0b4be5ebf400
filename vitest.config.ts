import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { E2eFirstSequencer } from './test/support/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest keeps a core free by default, which is one worker on a 2-core CI machine. The e2e files
    // mostly wait on the local cloud (backoffs, an outage), so one file per core keeps both busy.
    maxWorkers: availableParallelism(),
    sequence: { sequencer: E2eFirstSequencer },
    reporters: ['default'],
  },
});
