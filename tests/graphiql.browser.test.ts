/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestHerald, type TestHerald } from './support/herald';

// Debian's chromium (apt-get install chromium). CI installs it and requires this test; on a
// machine without it the test is skipped with this notice rather than failing `npm test`.
const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is required in CI for the GraphiQL browser test`);
if (!available) console.warn(`GraphiQL browser test skipped: no ${CHROMIUM}`);

let herald: TestHerald;
beforeAll(async () => {
  if (available) herald = await startTestHerald();
});
afterAll(() => herald?.stop());

describe.runIf(available)('GraphiQL in a browser', () => {
  it('should load from Herald alone and run a query with the token put in its Headers tab', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(herald.url)) elsewhere.push(request.url());
      });
      // The headers GraphiQL keeps (shouldPersistHeaders), as a user's pasted token would be.
      await page.addInitScript((token) => {
        localStorage.setItem('graphiql:headers', JSON.stringify({ Authorization: `Bearer ${token}` }));
      }, ADMIN_TOKEN);
      await page.goto(`${herald.url}/graphql`);
      await page.waitForSelector('.graphiql-container', { timeout: 20_000 });

      const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
      await editor.click();
      await page.evaluate(() => {
        const cm = (document.querySelector('.graphiql-query-editor .CodeMirror') as any).CodeMirror;
        cm.setValue('{ statistics { mailingCount } }');
      });
      await page.locator('.graphiql-execute-button').click();
      await page.waitForFunction(() => document.querySelector('.graphiql-response')?.textContent?.includes('mailingCount'), null, {
        timeout: 20_000,
      });
      const response = await page.locator('.graphiql-response').textContent();
      expect(response).toContain('"mailingCount": 0');
      expect(elsewhere).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
