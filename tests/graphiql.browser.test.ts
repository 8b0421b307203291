/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, requestsElsewhere } from './support/browser';
import { createMailing, inMs } from './support/fixtures';
import { ADMIN_TOKEN, startTestHerald, type TestHerald } from './support/herald';

let herald: TestHerald;
let browser: Browser;
beforeAll(async () => {
  if (!chromiumAvailable) return;
  herald = await startTestHerald();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await herald?.stop();
});

/** GraphiQL in a fresh page, with `headers` as if the user had put them in its Headers tab before. */
async function openGraphiql(headers?: Record<string, string>) {
  const page = await browser.newPage();
  const elsewhere = requestsElsewhere(page, herald.url);
  const introspections: number[] = [];
  page.on('response', async (response) => {
    if (response.request().postData()?.includes('IntrospectionQuery')) introspections.push(response.status());
  });
  if (headers) await page.addInitScript((h) => sessionStorage.setItem('graphiql:headers', JSON.stringify(h)), headers);
  await page.goto(`${herald.url}/graphql`);
  await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
  return { page, elsewhere, introspections };
}

async function run(page: Page, query: string) {
  await page.evaluate((q) => {
    (document.querySelector('.graphiql-query-editor .CodeMirror') as any).CodeMirror.setValue(q);
  }, query);
  // GraphiQL parses what was typed a moment later; only then does it know a subscription
  // from a query (and send it over the websocket).
  await page.waitForTimeout(500);
  await page.locator('.graphiql-execute-button').click();
}

const response = (page: Page) => page.locator('.graphiql-response').textContent();
const untilResponseHas = (page: Page, text: string) =>
  page.waitForFunction((t) => document.querySelector('.graphiql-response')?.textContent?.includes(t), text, { timeout: 20_000 });

describe.runIf(chromiumAvailable)('GraphiQL in a browser', () => {
  it('should load from Herald alone and run a query with the token put in its Headers tab', async () => {
    const { page, elsewhere } = await openGraphiql({ Authorization: `Bearer ${ADMIN_TOKEN}` });
    await run(page, '{ statistics { mailingCount } }');
    await untilResponseHas(page, 'mailingCount');
    expect(await response(page)).toContain('"mailingCount": 0');
    expect(elsewhere).toEqual([]);
    await page.close();
  });

  it('should run a subscription over the websocket and show its events as they come', async () => {
    const { page } = await openGraphiql({ Authorization: `Bearer ${ADMIN_TOKEN}` });
    await run(page, 'subscription { mailingsChanged { kind mailing { text } } }');
    await page.waitForTimeout(500); // the subscription is under way once its socket is acknowledged
    await createMailing(herald, { text: 'Seen in GraphiQL', startAt: inMs(60_000), endAt: inMs(120_000) });
    await untilResponseHas(page, 'Seen in GraphiQL');
    expect(await response(page)).toContain('"kind": "CREATED"');
    await page.close();
  });

  it('should fetch the schema only once a token is in the Headers tab, with no error left from before', async () => {
    const { page, introspections } = await openGraphiql();
    await page.waitForTimeout(1_000);
    expect(introspections).toEqual([]);
    expect(await page.locator('.graphiql-container').textContent()).not.toMatch(/Error fetching schema|UNAUTHENTICATED/);

    await page.getByText('Headers', { exact: true }).click();
    await page.evaluate((token) => {
      const editors = Array.from(document.querySelectorAll('.graphiql-editor-tool .CodeMirror')) as any[];
      const headers = editors.find((e) => e.CodeMirror.getValue().includes('Authorization'));
      headers.CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }));
    }, ADMIN_TOKEN);
    await expect.poll(() => introspections, { timeout: 10_000 }).toEqual([200]);
    await page.locator('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click();
    await page.getByText('Subscription', { exact: true }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.graphiql-container').textContent()).not.toMatch(/Error fetching schema|UNAUTHENTICATED/);
    await page.close();
  });

  // As the console keeps its token (session.tsx): for the tab alone, never in localStorage.
  it('should keep the token of its Headers tab in sessionStorage only, and drop one an older page left in localStorage', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      if (!sessionStorage.getItem('seeded')) localStorage.setItem('graphiql:headers', '{"Authorization": "Bearer left-by-an-older-page"}');
      sessionStorage.setItem('seeded', '1');
    });
    await page.goto(`${herald.url}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
    await page.getByText('Headers', { exact: true }).click();
    await page.evaluate((token) => {
      const editors = Array.from(document.querySelectorAll('.graphiql-editor-tool .CodeMirror')) as any[];
      const headers = editors.find((e) => e.CodeMirror.getValue().includes('Authorization'));
      headers.CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }));
    }, ADMIN_TOKEN);
    await page.waitForTimeout(800);
    const stored = await page.evaluate(() => ({ local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) }));
    expect(stored.local).not.toContain(ADMIN_TOKEN);
    expect(stored.local).not.toContain('left-by-an-older-page');
    expect(stored.session).toContain(ADMIN_TOKEN);

    // A reload keeps it (the same tab); another tab starts without it.
    await page.reload();
    await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
    await run(page, '{ statistics { mailingCount } }');
    await untilResponseHas(page, 'mailingCount');
    const other = await context.newPage();
    await other.goto(`${herald.url}/graphql`);
    await other.waitForSelector('.graphiql-container', { timeout: 20_000 });
    expect(await other.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).not.toContain(ADMIN_TOKEN);
    await context.close();
  });
});
