/// <reference lib="dom" />
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { chromiumAvailable, launchChromium, requestsElsewhere } from './support/browser';
import { createMailing, inMs, insertClients } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';

// `HERALD_SCREENSHOTS=docs npx vitest run tests/console.browser.test.ts` also writes the
// README's screenshots (docs/console-*.png) from the pages these tests see.
const SCREENSHOTS = process.env.HERALD_SCREENSHOTS;

let herald: TestHerald;
let gateway: GatewaySimulator;
let browser: Browser;
beforeAll(async () => {
  if (!chromiumAvailable) return;
  const gw = await startTestGateway();
  gateway = gw.simulator;
  // Few requests in flight, so that a mailing of a few dozen messages takes seconds to send.
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 2 } });
  browser = await launchChromium();
  // A directory worth looking at, for the lists and the screenshots.
  await insertClients(herald, 120, { operatorCode: '916', tags: ['vip', 'moscow'], timezone: 'Europe/Moscow' });
  await insertClients(herald, 80, { operatorCode: '903', tags: ['spb'], timezone: 'Europe/Moscow' });
});
afterAll(async () => {
  await browser?.close();
  await herald?.stop();
  await gateway?.stop();
});
afterEach(() => gateway?.set(DEFAULT_BEHAVIOUR));

/** A fresh browser tab (in Moscow time, as an operator there would have it) signed in with `token`. */
async function signedIn(token: string): Promise<Page> {
  const context = await browser.newContext({ timezoneId: 'Europe/Moscow', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(`${herald.url}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`signed in as ${token === ADMIN_TOKEN ? 'admin' : 'viewer'}`).waitFor();
  return page;
}

const snap = async (page: Page, name: string, fullPage = true) => {
  if (!SCREENSHOTS) return;
  await page.waitForTimeout(500); // the bars' width transitions
  await page.screenshot({ path: path.join(SCREENSHOTS, `console-${name}.png`), fullPage });
};

/** Every distinct text the element matching `selector` shows from now on, kept in the page. */
async function recordTexts(page: Page, selector: string): Promise<() => Promise<string[]>> {
  await page.evaluate((sel) => {
    const seen = new Set<string>();
    (window as any).__seen = seen;
    const note = () => document.querySelectorAll(sel).forEach((e) => seen.add(e.textContent ?? ''));
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, selector);
  return () => page.evaluate(() => [...(window as any).__seen] as string[]);
}

/** A tag no other test's clients have, on `n` new clients; returns the tag. */
async function clientsTagged(n: number): Promise<string> {
  const tag = `c${Math.random().toString(36).slice(2, 8)}`;
  await insertClients(herald, n, { tags: [tag] });
  return tag;
}

const progressText = (page: Page) => page.locator('.progress-text').first();
const badge = (page: Page) => page.locator('.page-head .badge');

// A browser, a Herald and messages going out: more than the default 30 s per test.
describe.runIf(chromiumAvailable)('the operator console in a browser', { timeout: 90_000 }, () => {
  it('should sign in with an API token kept for the session only, never in a URL, from Herald alone', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const elsewhere = requestsElsewhere(page, herald.url);
    await page.goto(`${herald.url}/`);
    await snap(page, 'sign-in');
    await page.getByLabel('API token').fill('not-a-token-herald-knows');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Herald does not accept this token');

    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('signed in as admin').waitFor();
    await page.reload();
    await page.getByText('signed in as admin').waitFor();
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([1, 0]);
    expect(elsewhere).toEqual([]);
    await context.close();
  });

  it('should create a client and a mailing that starts now, and show its progress reach 100% live', async () => {
    gateway.set({ latencyMs: 150 });
    const page = await signedIn(ADMIN_TOKEN);
    const tag = await clientsTagged(29);

    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByRole('button', { name: 'New client' }).click();
    const form = page.getByRole('form', { name: 'new client' });
    await form.getByLabel('Phone').fill('79161112233');
    await form.getByLabel('Tags').fill(tag);
    await form.getByRole('button', { name: 'Create client' }).click();
    await page.getByRole('form', { name: 'new client' }).waitFor({ state: 'detached' });
    await page.getByLabel('Phone', { exact: true }).fill('1112233');
    await page.locator('tr[data-client="79161112233"]').waitFor();

    await page.getByRole('link', { name: 'Mailings' }).click();
    await page.getByRole('button', { name: 'New mailing' }).click();
    await page.getByLabel('Text').fill('Hello from the console');
    await expect.poll(() => page.getByText('/1000 characters').textContent()).toBe('22/1000 characters');
    await page.getByRole('button', { name: 'Now' }).click();
    await page.getByLabel('End').fill(await page.evaluate(() => {
      const d = new Date(Date.now() + 3_600_000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }));
    await page.getByLabel('Tags', { exact: true }).fill(tag);
    await expect.poll(() => page.locator('.matching').textContent()).toBe('30 clients match');
    await snap(page, 'mailing-form');
    await page.getByRole('button', { name: 'Create mailing' }).click();

    await page.getByRole('heading', { name: /^Mailing \d+$/ }).waitFor();
    const seen = await recordTexts(page, '.progress-text');
    await page.waitForFunction(() => document.querySelector('.progress-text')?.textContent === '30/30', null, { timeout: 30_000 });
    await expect.poll(() => badge(page).textContent()).toBe('completed');
    await snap(page, 'mailing');
    // Seen moving, not only before and after: the page was never reloaded.
    const counts = (await seen()).map((t) => Number(t.split('/')[0]));
    expect(counts.filter((n) => n > 0 && n < 30).length).toBeGreaterThan(0);
    expect(await page.getByRole('progressbar', { name: 'sent' }).getAttribute('aria-valuenow')).toBe('30');
    await page.context().close();
  });

  it('should pause and resume a slow mailing, its status and counts following live', async () => {
    // Slow, and refusing a few messages as invalid: they are listed with their error.
    gateway.set({ latencyMs: 400, rejectRate: 0.3 });
    const page = await signedIn(ADMIN_TOKEN);
    const tag = await clientsTagged(300);
    const { id } = await createMailing(herald, { text: 'A slow one', filter: { tags: [tag] } });
    await page.goto(`${herald.url}/mailings/${id}`);
    await expect.poll(() => badge(page).textContent(), { timeout: 10_000 }).toBe('running');
    await page.waitForFunction(() => Number(document.querySelector('.progress-text')?.textContent?.split('/')[0]) > 0, null, { timeout: 10_000 });

    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => badge(page).textContent()).toBe('paused');
    // Requests already out when the pause returned finish (400 ms) and count; then nothing moves.
    await page.waitForTimeout(1_000);
    const pausedAt = await progressText(page).textContent();
    await page.waitForTimeout(1_500);
    expect(await progressText(page).textContent()).toBe(pausedAt);

    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => badge(page).textContent()).toBe('running');
    await expect.poll(() => progressText(page).textContent(), { timeout: 10_000 }).not.toBe(pausedAt);
    await expect.poll(() => page.locator('[data-figure="msg/s"] .figure-value').textContent(), { timeout: 10_000 }).not.toBe('0.0');
    // The refused ones are listed with their error, as they fail.
    await page.locator('table.failed tbody tr').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('table.failed tbody tr td.error-text').first().textContent()).toMatch(/^400/);
    await snap(page, 'mailing-running');

    await page.goto(`${herald.url}/`);
    await page.locator(`tr[data-mailing="${id}"]`).waitFor();
    await snap(page, 'overview');
    await page.getByRole('link', { name: 'Mailings' }).click();
    await page.locator(`tr[data-mailing="${id}"]`).waitFor();
    await snap(page, 'mailings');

    await page.goto(`${herald.url}/mailings/${id}`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => badge(page).textContent()).toBe('cancelled');
    await page.context().close();
  });

  it('should show an API error next to the field it names', async () => {
    const page = await signedIn(ADMIN_TOKEN);
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByRole('button', { name: 'New client' }).click();
    const form = page.getByRole('form', { name: 'new client' });
    await form.getByLabel('Phone').fill('8916');
    await form.getByLabel('Time zone').fill('Mars/Olympus');
    await form.getByRole('button', { name: 'Create client' }).click();
    // The API reports the first bad field it meets: the phone.
    await expect.poll(() => form.locator('label', { hasText: 'Phone' }).locator('.field-error').textContent()).toBe(
      'must be 7 followed by 10 digits, e.g. 79161234567',
    );
    await form.getByLabel('Phone').fill('79160000001');
    await form.getByRole('button', { name: 'Create client' }).click();
    await expect.poll(() => form.locator('label', { hasText: 'Time zone' }).locator('.field-error').textContent()).toBe(
      'must be an IANA time zone name, e.g. Europe/Moscow',
    );
    expect(await form.locator('label', { hasText: 'Phone' }).locator('.field-error').count()).toBe(0);
    await snap(page, 'field-error', false);
    await page.context().close();
  });

  it('should import a CSV file, with a progress bar and its one bad row listed by line', async () => {
    const page = await signedIn(ADMIN_TOKEN);
    const dir = await mkdtemp(path.join(tmpdir(), 'herald-csv-'));
    const file = path.join(dir, 'clients.csv');
    await writeFile(file, ['phone,tags,timezone', '79260000001,import;csv,Europe/Moscow', '7926000,import,Europe/Moscow', '79260000003,import,Asia/Yekaterinburg', ''].join('\n'));
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByLabel('CSV file').setInputFiles(file);
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.locator('.import-summary').textContent()).toBe('Done: 2 imported, 1 rejected');
    expect(await page.getByRole('progressbar', { name: 'rows processed' }).getAttribute('aria-valuenow')).toBe('3');
    const rejected = await page.locator('table.rejected tbody tr').allTextContents();
    expect(rejected).toEqual(['3phonemust be 7 followed by 10 digits, e.g. 79161234567']);
    // The list follows the directory: the imported clients show up in a search.
    await page.getByLabel('Tags', { exact: true }).fill('csv');
    await page.locator('tr[data-client="79260000001"]').waitFor();
    await snap(page, 'clients');
    await page.context().close();
  });

  it('should show a viewer everything and no write buttons', async () => {
    gateway.set({ latencyMs: 300 });
    const tag = await clientsTagged(40);
    const { id } = await createMailing(herald, { text: 'Watched by a viewer', filter: { tags: [tag] } });
    const page = await signedIn(VIEWER_TOKEN);
    const writeButtons = () => page.getByRole('button', { name: /^(New mailing|New client|Edit|Pause|Resume|Cancel|Delete|Import)$/ }).count();

    await page.locator('[data-figure="mailings"]').waitFor();
    await page.getByRole('link', { name: 'Mailings' }).click();
    await page.locator(`tr[data-mailing="${id}"]`).waitFor();
    expect(await writeButtons()).toBe(0);
    await page.goto(`${herald.url}/mailings/${id}`);
    await expect.poll(() => badge(page).textContent(), { timeout: 10_000 }).toMatch(/running|completed/);
    expect(await writeButtons()).toBe(0);
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.locator('table.clients tbody tr').first().waitFor();
    expect(await writeButtons()).toBe(0);
    expect(await page.getByLabel('CSV file').count()).toBe(0);
    await page.context().close();
    await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { id } }`, { id });
  });

  it('should keep the overall statistics on the home page live as messages are sent', async () => {
    gateway.set({ latencyMs: 100 });
    const page = await signedIn(ADMIN_TOKEN);
    const sent = page.locator('[data-figure="sent"] .figure-value');
    await sent.waitFor();
    const before = Number((await sent.textContent())!.replace(/\D/g, ''));
    const tag = await clientsTagged(10);
    await createMailing(herald, { startAt: inMs(-1_000), filter: { tags: [tag] } });
    await expect.poll(async () => Number((await sent.textContent())!.replace(/\D/g, '')), { timeout: 15_000 }).toBe(before + 10);
    await page.context().close();
  });
});
