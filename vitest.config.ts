import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The handlers log every step outcome; in tests those lines bury the results. Tests that
    // are about logging set their own level.
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    // End-to-end tests start a whole local cloud; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
