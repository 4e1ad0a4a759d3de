import { defineConfig } from 'vitest/config';

// Browser tests: real headless Chromium (Debian's) driven by playwright-core against a running
// bk-ingress (BK_E2E_BASE_URL). One file at a time, tests in order: they share the database.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    globals: false,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['verbose'],
  },
});
