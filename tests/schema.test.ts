import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printHeraldSchema } from '../src/graphql/print-schema';

describe('schema.graphql', () => {
  it('should match the schema the type-graphql classes build (run `npm run schema:emit` after a change)', async () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(await printHeraldSchema()).toBe(committed);
  });
});
