/// <reference lib="dom" />
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { chromiumAvailable, launchChromium, requestsElsewhere } from './support/browser';
import { createMailing, inMs, insertClients, phonesOf } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';

// `HERALD_SCREENSHOTS=docs npx vitest run tests/console.browser.test.ts` also writes the
// console screenshots (docs/console-*.png, shown in README.md and docs/console.md) from the
// pages these tests see.
const SCREENSHOTS = process.env.HERALD_SCREENSHOTS;

let herald: TestHerald;
let gateway: GatewaySimulator;
let browser: Browser;
beforeAll(async () => {
  if (!chromiumAvailable) return;
  const gw = await startTestGateway();
  gateway = gw.simulator;
  // Few requests in flight, so that a mailing of a few dozen messages takes seconds to send.
  // A finished mailing's progress stays open a minute for its receipts (the receipts test).
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 2 }, live: { progressIntervalMs: 250, heartbeatMs: 1_000, receiptIdleMs: 60_000 } });
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
  return signedInTab(context, token);
}

/** One more tab in `context`, signed in (the token is kept per tab). */
async function signedInTab(context: BrowserContext, token: string): Promise<Page> {
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
  return (await clientsWithPhones(n)).tag;
}

/** Like clientsTagged, with the clients' phones. */
async function clientsWithPhones(n: number): Promise<{ tag: string; phones: string[] }> {
  const tag = `c${Math.random().toString(36).slice(2, 8)}`;
  const ids = await insertClients(herald, n, { tags: [tag] });
  return { tag, phones: [...(await phonesOf(herald, ids))].map(String).sort() };
}

/** A datetime-local value `ms` from now, in the browser's time zone. */
const localInput = (page: Page, ms: number) =>
  page.evaluate((ms) => {
    const d = new Date(Date.now() + ms);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, ms);

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
    await page.getByLabel('End').fill(await localInput(page, 3_600_000));
    await page.getByLabel('Tags', { exact: true }).fill(tag);
    await expect.poll(() => page.locator('.matching').textContent()).toBe('30 clients match');
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
    // maxFailureRate 1: a run of refusals must not pause it by itself here (see the test of that below).
    const { id } = await createMailing(herald, { name: 'Slow spring sale', text: 'A slow one', filter: { tags: [tag] }, maxFailureRate: 1 });
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

  it('should import a CSV file with names and attributes, with a progress bar and its bad rows listed by line', async () => {
    const page = await signedIn(ADMIN_TOKEN);
    const dir = await mkdtemp(path.join(tmpdir(), 'herald-csv-'));
    const file = path.join(dir, 'clients.csv');
    await writeFile(
      file,
      [
        'phone,tags,timezone,name,attributes',
        '79260000001,import;csv,Europe/Moscow,Ann,city=Kazan;tier=gold',
        '7926000,import,Europe/Moscow,,',
        '79260000003,import,Asia/Yekaterinburg,,',
        '79260000004,import,UTC,Eve,city',
        '',
      ].join('\n'),
    );
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByLabel('CSV file').setInputFiles(file);
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.locator('.import-summary').textContent()).toBe('Done: 2 imported, 2 rejected');
    expect(await page.getByRole('progressbar', { name: 'rows processed' }).getAttribute('aria-valuenow')).toBe('4');
    const rejected = await page.locator('table.rejected tbody tr').allTextContents();
    // Each with the value at fault: the field's as written, or the whole line when it does not parse.
    expect(rejected).toEqual(['3phone7926000must be 7 followed by 10 digits, e.g. 79161234567', '579260000004,import,UTC,Eve,cityattributes: "city" is not key=value (pairs are separated by \';\')']);
    // Names and attributes arrive for personalised texts.
    expect(await herald.sql`select name, attributes from clients where phone = '79260000001'`).toEqual([{ name: 'Ann', attributes: { city: 'Kazan', tier: 'gold' } }]);
    // The list follows the directory: the imported clients show up in a search.
    await page.getByLabel('Tags', { exact: true }).fill('csv');
    await page.locator('tr[data-client="79260000001"]').waitFor();
    await page.context().close();
  });

  it('should edit a scheduled mailing from its values, counting its own audience from the first request', async () => {
    const tag = await clientsTagged(3);
    const { id } = await createMailing(herald, { text: 'Before the edit', startAt: inMs(3_600_000), endAt: inMs(7_200_000), filter: { tags: [tag] } });
    const page = await signedIn(ADMIN_TOKEN);
    // Every audience count the page asks for, by its filter's tags.
    const counted: string[][] = [];
    page.on('request', (request) => {
      const body = request.postDataJSON?.() as { operationName?: string; variables?: { filter?: { tags?: string[] } } } | null;
      if (body?.operationName === 'AudiencePreview') counted.push(body.variables?.filter?.tags ?? []);
    });
    await page.goto(`${herald.url}/mailings/${id}`);
    await page.getByRole('link', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'edit mailing' });
    expect(await form.getByRole('textbox', { name: 'Text', exact: true }).inputValue()).toBe('Before the edit');
    expect(await form.getByLabel('Tags', { exact: true }).inputValue()).toBe(tag);
    await expect.poll(() => form.locator('.matching').textContent()).toBe('3 clients match');
    expect(counted).toEqual([[tag]]);
    await snap(page, 'mailing-edit');

    await form.getByRole('textbox', { name: 'Text', exact: true }).fill('After the edit');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${herald.url}/mailings/${id}`);
    expect((await herald.ok(`query($id: ID!) { mailing(id: $id) { text filter { tags } } }`, { id })).mailing).toEqual({ text: 'After the edit', filter: { tags: [tag] } });
    await page.context().close();
  });

  it('should show a viewer everything and no write buttons', async () => {
    gateway.set({ latencyMs: 300 });
    const tag = await clientsTagged(40);
    const { id } = await createMailing(herald, { text: 'Watched by a viewer', filter: { tags: [tag] } });
    const page = await signedIn(VIEWER_TOKEN);
    const writeButtons = () =>
      page.getByRole('button', { name: /^(New mailing|New client|Edit|Pause|Resume|Cancel|Delete|Import|Retry failed|Duplicate|Opt out|Opt in|Send test)$/ }).count();
    await herald.ok(`mutation { optOut(phone: "79169990001", reason: "seen by a viewer") }`);

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
    await page.getByRole('link', { name: 'Opt-outs' }).click();
    await page.locator('tr[data-opt-out="79169990001"]').waitFor();
    expect(await writeButtons()).toBe(0);
    expect(await page.getByRole('form', { name: 'opt out' }).count()).toBe(0);
    await page.context().close();
    await herald.ok(`mutation { optIn(phone: "79169990001") }`);
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

describe.runIf(chromiumAvailable)('the console on campaign features', { timeout: 90_000 }, () => {
  const segments = (page: Page) => page.locator('form[aria-label="new mailing"] .segments');

  it('should show the live segments of a text: GSM-7 or UCS-2, and the parts at their boundaries', async () => {
    const page = await signedIn(ADMIN_TOKEN);
    await page.goto(`${herald.url}/mailings/new`);
    const text = page.getByRole('textbox', { name: 'Text', exact: true });
    const shows = async (value: string, expected: string) => {
      await text.fill(value);
      await expect.poll(() => segments(page).textContent()).toBe(expected);
    };
    await shows('a'.repeat(160), 'GSM-7 · 160 characters · 1 SMS part · 0 left before the next part');
    await shows('a'.repeat(161), 'GSM-7 · 161 characters · 2 SMS parts · 145 left before the next part');
    // An extension character counts twice: 159 + 2 septets.
    await shows(`${'a'.repeat(159)}€`, 'GSM-7 · 161 characters · 2 SMS parts · 145 left before the next part');
    await shows('П'.repeat(70), 'UCS-2 · 70 characters · 1 SMS part · 0 left before the next part');
    await shows('П'.repeat(71), 'UCS-2 · 71 characters · 2 SMS parts · 63 left before the next part');
    await shows(`Привет, ${'a'.repeat(126)}`, 'UCS-2 · 134 characters · 2 SMS parts · 0 left before the next part');
    expect(await segments(page).getAttribute('data-encoding')).toBe('UCS_2');
    await shows(`Привет, ${'a'.repeat(127)}`, 'UCS-2 · 135 characters · 3 SMS parts · 66 left before the next part');
    // Placeholders count at their longest (64), as Herald bills them.
    await shows('Hi {{name|friend}}!', 'GSM-7 · 68 characters · 1 SMS part · 92 left before the next part');
    await page.getByText('measured with each placeholder at its longest').waitFor();
    await shows('Hi {{nmae}}', 'unknown placeholder {{nmae}}: use {{name}} or {{attributes.<key>}}, with an optional default as {{name|friend}}');

    // Herald refuses what it would bill as more than MAX_SEGMENTS (6) parts, on the text field.
    await text.fill('Ж'.repeat(500));
    await expect.poll(() => segments(page).first().getAttribute('data-parts')).toBe('8');
    await page.getByRole('button', { name: 'Now' }).click();
    await page.getByRole('textbox', { name: 'End', exact: true }).fill(await localInput(page, 3_600_000));
    await page.getByRole('button', { name: 'Create mailing' }).click();
    await expect.poll(() => page.locator('form[aria-label="new mailing"] .field-error[data-field="text"]').textContent()).toBe(
      'would be billed as up to 8 SMS (500 UCS-2 characters at its placeholders\' longest); at most 6 are allowed',
    );
    await page.context().close();
  });

  it('should opt a phone out from the console: it is listed, and the audience count drops live', async () => {
    const page = await signedIn(ADMIN_TOKEN);
    const { tag, phones } = await clientsWithPhones(5);
    const phone = phones[0];
    const { id } = await createMailing(herald, { name: 'Audience check', startAt: inMs(3_600_000), endAt: inMs(7_200_000), filter: { tags: [tag] } });

    // One tab with the form's count, one with the scheduled mailing's audience, one on the opt-outs.
    await page.goto(`${herald.url}/mailings/new`);
    await page.getByRole('textbox', { name: 'Text', exact: true }).fill('Two parts of text '.repeat(10));
    await page.getByLabel('Tags', { exact: true }).fill(tag);
    await expect.poll(() => page.locator('.matching').textContent()).toBe('5 clients match');
    expect(await page.locator('.estimate').textContent()).toBe('≈ 10 SMS parts billed (2 a message)');
    const mailingTab = await signedInTab(page.context(), ADMIN_TOKEN);
    await mailingTab.goto(`${herald.url}/mailings/${id}`);
    const audience = mailingTab.locator('[data-fact="audience"]');
    await expect.poll(() => audience.textContent()).toBe('5 clients matching now, opted-out phones left out');

    const optOuts = await signedInTab(page.context(), ADMIN_TOKEN);
    await optOuts.getByRole('link', { name: 'Opt-outs' }).click();
    const form = optOuts.getByRole('form', { name: 'opt out' });
    // The API's error next to the field it names.
    await form.getByLabel('Phone').fill('8916');
    await form.getByRole('button', { name: 'Opt out' }).click();
    await expect.poll(() => form.locator('label', { hasText: 'Phone' }).locator('.field-error').textContent()).toBe('must be 7 followed by 10 digits, e.g. 79161234567');
    await form.getByLabel('Phone').fill(phone);
    await form.getByLabel('Reason').fill('replied STOP');
    await form.getByRole('button', { name: 'Opt out' }).click();
    const row = optOuts.locator(`tr[data-opt-out="${phone}"]`);
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('replied STOP');
    expect(await form.locator('.field-error').count()).toBe(0);
    // Found by the digits it contains; a search that is not digits is refused next to its field.
    const find = optOuts.getByLabel('Find a phone');
    await find.fill(phone.slice(4, 10));
    await expect.poll(async () => (await optOuts.locator('tr[data-opt-out]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-opt-out')))).every((p) => p!.includes(phone.slice(4, 10)))).toBe(true);
    await row.waitFor();
    await find.fill('12a');
    await expect.poll(() => optOuts.locator('label', { hasText: 'Find a phone' }).locator('.field-error').textContent()).toBe('must be up to 11 digits of a phone');
    await find.fill('');
    await row.waitFor();

    // Neither tab was reloaded.
    await expect.poll(() => page.locator('.matching').textContent()).toBe('4 clients match');
    await expect.poll(() => page.locator('.estimate').textContent()).toBe('≈ 8 SMS parts billed (2 a message)');
    await expect.poll(() => audience.textContent()).toBe('4 clients matching now, opted-out phones left out');
    expect(await mailingTab.locator('[data-fact="estimated parts"]').textContent()).toBe('4 SMS parts (1 a message)');
    await snap(optOuts, 'opt-outs');

    await row.getByRole('button', { name: 'Opt in' }).click();
    await row.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('.matching').textContent()).toBe('5 clients match');
    await expect.poll(() => audience.textContent()).toBe('5 clients matching now, opted-out phones left out');
    await page.context().close();
    await herald.ok(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id });
  });

  it("should show a personalised text's test send as it went out", async () => {
    const page = await signedIn(ADMIN_TOKEN);
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByRole('button', { name: 'New client' }).click();
    const form = page.getByRole('form', { name: 'new client' });
    await form.getByLabel('Phone').fill('79165550101');
    await form.getByLabel('Name').fill('Anna');
    await form.getByLabel('Attributes').fill('city=Kazan\nbad line');
    await form.getByRole('button', { name: 'Create client' }).click();
    await expect.poll(() => form.locator('label', { hasText: 'Attributes' }).locator('.field-error').textContent()).toBe('line 2: expected key=value');
    await form.getByLabel('Attributes').fill('city=Kazan\ntier=gold');
    await form.getByRole('button', { name: 'Create client' }).click();
    await form.waitFor({ state: 'detached' });
    await page.getByLabel('Phone', { exact: true }).fill('79165550101');
    const client = page.locator('tr[data-client="79165550101"]');
    await client.waitFor();
    expect(await client.locator('td').nth(1).textContent()).toBe('Anna');
    expect(await client.locator('.attribute').allTextContents()).toEqual(['city=Kazan', 'tier=gold']);
    await page.getByLabel('Phone', { exact: true }).fill('7916');
    await client.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'edit client' });
    expect(await edit.getByLabel('Attributes').inputValue()).toBe('city=Kazan\ntier=gold');
    await snap(page, 'clients', false);
    await edit.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('link', { name: 'Mailings' }).click();
    await page.getByRole('button', { name: 'New mailing' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Kazan welcome');
    await page.getByRole('textbox', { name: 'Text', exact: true }).fill('Hi {{name|friend}}, the {{attributes.city}} store has a gift for you.');
    await page.getByLabel('Tags', { exact: true }).fill('vip');
    await page.getByLabel('Frequency cap').fill('2/24h');
    await page.getByLabel('Max failure rate').fill('0.2');
    const box = page.getByRole('form', { name: 'test message' });
    await box.getByLabel('Test phone').fill('79165550101');
    await box.getByRole('button', { name: 'Send test' }).click();
    const result = box.getByRole('status');
    await expect.poll(() => result.locator('.rendered-text').textContent()).toBe('Hi Anna, the Kazan store has a gift for you.');
    expect(await result.locator('strong').textContent()).toBe('Sent');
    expect(await result.locator('.segments').textContent()).toBe('GSM-7 · 44 characters · 1 SMS part');
    expect(gateway.received.at(-1)).toMatchObject({ phone: 79165550101, text: 'Hi Anna, the Kazan store has a gift for you.' });
    await snap(page, 'mailing-form');

    // A phone of nobody gets the defaults.
    await box.getByLabel('Test phone').fill('79165550199');
    await box.getByRole('button', { name: 'Send test' }).click();
    await expect.poll(() => result.locator('.rendered-text').textContent()).toBe('Hi friend, the  store has a gift for you.');

    // Its rules arrive with it.
    await page.getByRole('button', { name: 'Now' }).click();
    await page.getByRole('textbox', { name: 'End', exact: true }).fill(await localInput(page, 3_600_000));
    await page.getByLabel('Frequency cap').fill('2 a day');
    await page.getByRole('button', { name: 'Create mailing' }).click();
    await expect.poll(() => page.locator('label', { hasText: 'Frequency cap' }).locator('.field-error').textContent()).toBe(
      'must be a count per window such as 2/24h (units s, m, h, d; at most a year)',
    );
    await page.getByLabel('Frequency cap').fill('2/24h');
    await page.getByRole('textbox', { name: 'Start', exact: true }).fill(await localInput(page, 3_600_000));
    await page.getByRole('textbox', { name: 'End', exact: true }).fill(await localInput(page, 7_200_000));
    await page.getByRole('button', { name: 'Create mailing' }).click();
    await page.getByRole('heading', { name: 'Kazan welcome' }).waitFor();
    expect(await page.locator('[data-fact="frequency cap"]').textContent()).toBe('at most 2/1d to a client, across mailings');
    expect(await page.getByText('when more than 20% of its last 200 results failed').count()).toBe(1);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => badge(page).textContent()).toBe('cancelled');
    await page.context().close();
  });

  it('should show why a mailing paused itself, and duplicate it', async () => {
    gateway.set({ latencyMs: 50, rejectRate: 1 });
    const tag = await clientsTagged(80);
    const { id } = await createMailing(herald, { name: 'Broken sender', text: 'Refused every time', filter: { tags: [tag] }, maxFailureRate: 0.5 });
    const page = await signedIn(ADMIN_TOKEN);
    await page.goto(`${herald.url}/mailings/${id}`);
    await expect.poll(() => badge(page).textContent(), { timeout: 15_000 }).toBe('paused');
    const reason = page.locator('.paused-reason');
    await expect.poll(() => reason.textContent()).toMatch(/^It paused itself: 100% of its last results failed \(more than 50%\)\. It resumes only by hand/);
    await page.locator('table.failed tbody tr').first().waitFor();
    await snap(page, 'mailing-paused', false);

    // A viewer sees the reason too, and the list says so.
    const viewer = await signedIn(VIEWER_TOKEN);
    await viewer.goto(`${herald.url}/mailings/${id}`);
    await viewer.locator('.paused-reason').waitFor();
    await viewer.getByRole('link', { name: 'Mailings' }).click();
    await viewer.getByLabel('Name').fill('broken');
    await expect.poll(() => viewer.locator('table.mailings tbody tr').count()).toBe(1);
    expect(await viewer.locator(`tr[data-mailing="${id}"] .paused-note`).textContent()).toBe('paused itself');
    await viewer.context().close();

    // Cancelled, it no longer says it paused itself. (Not resumed here: Herald keeps the failures
    // it judged on, so a resumed mailing pauses itself again on its first results.)
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => badge(page).textContent()).toBe('cancelled');
    expect(await reason.count()).toBe(0);

    await page.getByRole('button', { name: 'Duplicate' }).click();
    await page.waitForURL((url) => url.pathname !== `/mailings/${id}`);
    await page.getByRole('heading', { name: 'Broken sender' }).waitFor();
    await expect.poll(() => badge(page).textContent()).toBe('scheduled');
    expect(await page.locator('[data-fact="audience"]').textContent()).toBe('80 clients matching now, opted-out phones left out');
    const copy = page.url().split('/').at(-1)!;
    await herald.ok(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id: copy });
    await page.context().close();
  });

  it('should send the failed messages of a completed mailing again', async () => {
    gateway.set({ rejectRate: 1 });
    const tag = await clientsTagged(10);
    const { id } = await createMailing(herald, { text: 'Once more', filter: { tags: [tag] }, maxFailureRate: 1 });
    const page = await signedIn(ADMIN_TOKEN);
    await page.goto(`${herald.url}/mailings/${id}`);
    await expect.poll(() => badge(page).textContent(), { timeout: 15_000 }).toBe('completed');
    await expect.poll(() => page.locator('[data-figure="failed"] .figure-value').textContent()).toBe('10');
    gateway.set({ rejectRate: 0 });
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page.waitForFunction(() => document.querySelector('.progress-text')?.textContent === '10/10', null, { timeout: 15_000 });
    await expect.poll(() => badge(page).textContent()).toBe('completed');
    await expect.poll(() => page.locator('table.failed').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Retry failed' }).count()).toBe(0);
    await page.context().close();
  });
});

describe.runIf(chromiumAvailable)('the console on providers', { timeout: 90_000 }, () => {
  const card = (page: Page, name: string) => page.locator(`[data-provider="${name}"]`);
  const figure = (page: Page, name: string, label: string) => card(page, name).locator(`[data-figure="${label}"]`);
  const settled = async () => {
    const { mailings } = await herald.ok(`{ mailings(status: RUNNING) { totalCount } }`);
    return mailings.totalCount;
  };

  it('should show the default provider UP on the overview, its rate and requests in flight live', async () => {
    gateway.set({ latencyMs: 300 });
    // What earlier tests sent is over: the provider idles.
    await expect.poll(settled, { timeout: 15_000 }).toBe(0);
    const page = await signedIn(ADMIN_TOKEN);
    const provider = card(page, 'default');
    await provider.waitFor();
    expect(await page.locator('[data-provider]').count()).toBe(1);
    expect(await provider.locator('.provider-type').textContent()).toBe('HTTP');
    expect(await provider.locator('.provider-state').textContent()).toBe('UP');
    expect(await provider.locator('.provider-reason').count()).toBe(0);
    // SENDER_RATE_LIMIT is not set.
    expect(await figure(page, 'default', 'limit').textContent()).toBe('no limit');
    expect(await figure(page, 'default', 'binds up').count()).toBe(0);
    await expect.poll(() => figure(page, 'default', 'in flight').textContent(), { timeout: 15_000 }).toBe('0');
    await expect.poll(() => figure(page, 'default', 'sent per second').textContent(), { timeout: 15_000 }).toBe('0.0 msg/s');

    // A mailing going out (two requests in flight at 300 ms: some 6 a second), seen without a reload.
    const seen = await recordTexts(page, '[data-provider="default"] dd');
    const tag = await clientsTagged(30);
    const { id } = await createMailing(herald, { text: 'Through the default provider', filter: { tags: [tag] } });
    await expect.poll(async () => Number.parseFloat((await figure(page, 'default', 'sent per second').textContent())!), { timeout: 10_000 }).toBeGreaterThan(1);
    await page.locator(`tr[data-mailing="${id}"]`).waitFor();
    await snap(page, 'providers', false);
    await expect.poll(async () => (await herald.ok(`query($id: ID!) { mailing(id: $id) { status } }`, { id })).mailing.status, { timeout: 30_000 }).toBe('COMPLETED');
    const texts = await seen();
    const rates = texts.filter((t) => t.endsWith(' msg/s')).map((t) => Number.parseFloat(t));
    expect(Math.max(...rates)).toBeLessThan(12);
    const inFlight = texts.filter((t) => /^\d+$/.test(t)).map(Number);
    expect(inFlight).toContain(0);
    expect(Math.max(...inFlight)).toBeGreaterThan(0);
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(2);
    expect(await provider.locator('.provider-state').textContent()).toBe('UP');
    // And idle again once it is over.
    await expect.poll(() => figure(page, 'default', 'in flight').textContent(), { timeout: 10_000 }).toBe('0');
    await expect.poll(() => figure(page, 'default', 'sent per second').textContent(), { timeout: 15_000 }).toBe('0.0 msg/s');
    await page.context().close();
  });

  it('should show the provider that took each message of a mailing, and its id there', async () => {
    const tag = await clientsTagged(5);
    const { id } = await createMailing(herald, { text: 'Which provider?', filter: { tags: [tag] } });
    const page = await signedIn(ADMIN_TOKEN);
    await page.goto(`${herald.url}/mailings/${id}`);
    await expect.poll(() => badge(page).textContent(), { timeout: 15_000 }).toBe('completed');
    const rows = page.locator('table.sent tbody tr');
    await expect.poll(() => rows.count()).toBe(5);
    expect(await page.locator('table.sent th').allTextContents()).toEqual(['Message', 'Status', 'Phone', 'Provider', 'Sent at']);
    expect(await rows.locator('.badge-message-sent').allTextContents()).toEqual(Array(5).fill('sent'));
    expect(await rows.locator('td.provider-cell').allTextContents()).toEqual(Array(5).fill('default'));
    // The provider's own id of each, where it gave one, as the cell's title.
    const stored = await herald.sql<{ id: string; provider_message_id: string | null }[]>`
      select id, provider_message_id from messages where mailing_id = ${id} order by id`;
    const titles = await rows.locator('td.provider-cell').evaluateAll((cells) => cells.map((c) => c.getAttribute('title')));
    expect(titles).toEqual(stored.map((m) => (m.provider_message_id === null ? null : `its id at default: ${m.provider_message_id}`)));
    await page.context().close();
  });

  it('should show receipts live after a mailing completed: delivered, undelivered, delivery rate, awaiting receipt, failure reasons', async () => {
    const { tag, phones } = await clientsWithPhones(20);
    gateway.set({ rules: [{ phones: phones.slice(0, 4).map(Number), failTimes: 100, failStatus: 400 }] });
    const { id } = await createMailing(herald, { text: 'Did it arrive?', name: 'Receipts', filter: { tags: [tag] } });
    const page = await signedIn(ADMIN_TOKEN);
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(`${herald.url}/mailings/${id}`);
    await expect.poll(() => badge(page).textContent(), { timeout: 20_000 }).toBe('completed');
    const value = (label: string) => page.locator(`[data-figure="${label}"] .figure-value`).textContent();
    await expect.poll(() => value('awaiting receipt')).toBe('16');
    expect(await value('delivery rate')).toBe('—');
    // Receipts by SQL, as the receipts service applies them (SENT → DELIVERED | UNDELIVERED
    // and the NOTIFY): the receipts route comes with another part of issue 19.
    const receipt = async (status: string, n: number, error: string | null) => {
      const rows = await herald.sql<{ id: string }[]>`
        update messages set status = ${status}::message_status, delivered_at = now(), updated_at = now(), last_error = coalesce(${error}, last_error)
        where id in (select id from messages where mailing_id = ${id} and status = 'SENT' order by id limit ${n}) returning id::text`;
      await herald.sql`select pg_notify('herald_events', ${JSON.stringify({ t: 'messages', m: Number(id), ids: rows.map((r) => Number(r.id)) })})`;
    };
    await receipt('DELIVERED', 12, null);
    await receipt('UNDELIVERED', 3, 'UNDELIV err:034');
    // Seen without a reload, the mailing COMPLETED all along.
    // (The two batches may show in one event or in two.)
    await expect.poll(() => value('undelivered'), { timeout: 10_000 }).toBe('3');
    expect(await value('delivered')).toBe('12');
    expect(await value('delivery rate')).toBe('80.0%');
    expect(await value('awaiting receipt')).toBe('1');
    expect(await value('sent')).toBe('16');
    const reasons = page.locator('.failure-reasons li');
    await expect.poll(() => reasons.count(), { timeout: 10_000 }).toBe(2);
    expect((await reasons.allTextContents()).map((t) => t.replace(/\s+/g, ' '))).toEqual([
      expect.stringMatching(/^failed400.*× 4$/),
      'undeliveredUNDELIV err:034× 3',
    ]);
    const undelivered = page.locator('table.undelivered tbody tr');
    await expect.poll(() => undelivered.count(), { timeout: 10_000 }).toBe(3);
    expect(await page.locator('table.undelivered th').allTextContents()).toEqual(['Message', 'Status', 'Phone', 'Provider', 'Sent at', 'Receipt at', 'Receipt']);
    expect(await undelivered.locator('.badge-message-undelivered').allTextContents()).toEqual(Array(3).fill('undelivered'));
    expect(await undelivered.locator('td.error-text').allTextContents()).toEqual(Array(3).fill('UNDELIV err:034'));
    expect((await undelivered.locator('td.delivered-at').allTextContents()).every((t) => t.length > 0)).toBe(true);
    await expect.poll(() => page.locator('table.delivered tbody tr').count(), { timeout: 10_000 }).toBe(12);
    expect(await page.locator('table.delivered .badge-message-delivered').count()).toBe(12);
    await expect.poll(() => page.locator('table.sent tbody tr').count(), { timeout: 10_000 }).toBe(1);
    // The badges' colours tell delivered from undelivered.
    const colour = (selector: string) => page.locator(selector).first().evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(await colour('.badge-message-delivered')).not.toBe(await colour('.badge-message-undelivered'));
    await snap(page, 'mailing-receipts');
    // At phone width, from the receipts down (the header's links overflow a phone on their own:
    // the navigation, Layout.tsx, is not this page's).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('[aria-label="receipts"]').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await snap(page, 'mailing-receipts-phone', false);

    // The overview: the figures over every mailing.
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.getByRole('link', { name: 'Overview' }).first().click();
    await expect.poll(() => value('delivery rate'), { timeout: 10_000 }).toMatch(/^\d+\.\d%$/);
    expect(Number(await value('delivered'))).toBeGreaterThanOrEqual(12);
    expect(Number(await value('undelivered'))).toBeGreaterThanOrEqual(3);
    await snap(page, 'overview');
    await page.setViewportSize({ width: 390, height: 844 });
    await snap(page, 'overview-phone', false);
    await page.context().close();
  });

  it('should show a provider no worker process reports as DOWN, with why', async () => {
    // An api process alone, on a database of its own: no worker sends, none reports.
    const gw = await startTestGateway();
    const api = await startTestHerald({ ...gw.config, role: 'api' });
    try {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const page = await context.newPage();
      await page.goto(`${api.url}/`);
      await page.getByLabel('API token').fill(VIEWER_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const provider = card(page, 'default');
      await expect.poll(() => provider.locator('.provider-state').textContent(), { timeout: 15_000 }).toBe('DOWN');
      expect(await provider.locator('.provider-reason').textContent()).toMatch(/no worker process reports it/);
      await snap(page, 'providers-phone', false);
      await context.close();
    } finally {
      await api.stop();
      await gw.simulator.stop();
    }
  });
});
