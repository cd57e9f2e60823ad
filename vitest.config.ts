import { defineConfig } from 'vitest/config';

// One suite, two databases: with TEST_DATABASE_URL (or DATABASE_URL) set, every database test runs on
// that Postgres; without it, on embedded PGlite. .ci/run runs the suite both ways.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    // Each PGlite instance costs ~0.5-0.9 GB: keep workers bounded on a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
