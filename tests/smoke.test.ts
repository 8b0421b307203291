import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './support/herald';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(() => herald?.stop());

describe('smoke', () => {
  it('should create a client and read it back', async () => {
    const data = await herald.ok(`mutation { createClient(input: { phone: "79161234567", timezone: "Europe/Moscow" }) { id operatorCode } }`);
    expect(data.createClient.operatorCode).toBe('916');
    const rows = await herald.sql`select phone from clients`;
    expect(rows).toEqual([{ phone: '79161234567' }]);
  });
});
