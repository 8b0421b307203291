import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One graphql module for type-graphql, Apollo and the tests: without the alias vitest loads
  // graphql's ESM build beside the CommonJS one type-graphql requires, and graphql-js then
  // refuses a schema's types as coming "from another module or realm".
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
