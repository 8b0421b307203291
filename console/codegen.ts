import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents from Herald's committed schema: every operation under src/ is checked
// against ../schema.graphql at build time, and its result and variables get their types.
const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { scalars: { DateTime: 'string', JSONObject: 'Record<string, string>' }, enumsAsTypes: true, useTypeImports: true },
    },
  },
};

export default config;
