import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One graphql module for type-graphql, Apollo and the tests (see STACK.md).
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
