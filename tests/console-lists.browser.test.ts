/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { chromiumAvailable, DESKTOP, launchChromium, screenshotter, signInToConsole } from './support/browser';
import { createMailing, insertClients, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, startTestHerald, type TestHerald } from './support/herald';

/**
 * Issue 20: lists that show what the server has however the operator got to them (items 1),
 * a paused mailing's "paused by … at …" (item 4), the throughput chart of a finished mailing
 * (item 2). Navigation is the console's own (its links), as an operator's: a reload would
 * start a fresh cache and hide what the issue is about.
 */
const SCREENSHOTS = process.env.HERALD_SCREENSHOTS;

let herald: TestHerald;
let gateway: GatewaySimulator;
let browser: Browser;
beforeAll(async () => {
  if (!chromiumAvailable) return;
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 2 }, live: { progressIntervalMs: 250, heartbeatMs: 1_000, receiptIdleMs: 5_000 } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await herald?.stop();
  await gateway?.stop();
});
afterEach(() => gateway?.set(DEFAULT_BEHAVIOUR));

const signedIn = (viewport = DESKTOP): Promise<Page> => signInToConsole(browser, herald.url, ADMIN_TOKEN, { viewport, as: 'admin', acceptDialogs: true });

const snap = screenshotter(SCREENSHOTS, 500);

async function tagged(n: number): Promise<string> {
  const tag = `l${Math.random().toString(36).slice(2, 8)}`;
  await insertClients(herald, n, { tags: [tag] });
  return tag;
}

const nav = (page: Page, name: 'Overview' | 'Mailings') => page.locator('nav').getByRole('link', { name, exact: true }).click();
const badge = (page: Page) => page.locator('.page-head .badge');
const row = (page: Page, id: string) => page.locator(`tr[data-mailing="${id}"]`);

/** A datetime-local value `ms` from now, in the browser's time zone. */
const localInput = (page: Page, ms: number) =>
  page.evaluate((ms) => {
    const d = new Date(Date.now() + ms);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, ms);

describe.runIf(chromiumAvailable)('the console lists, live (issue 20)', { timeout: 90_000 }, () => {
  it('should list the mailings made while the list was not open, drop a deleted one, and show a resumed one as sending', async () => {
    // Slow: the mailings stay under way for the whole test.
    gateway.set({ latencyMs: 2_000 });
    const page = await signedIn();
    const tag = await tagged(200);
    // Both lists read once before anything exists: a cache-first console would show these.
    await page.getByRole('heading', { name: 'Sending now' }).waitFor();
    await nav(page, 'Mailings');
    await page.getByRole('heading', { name: 'Mailings' }).waitFor();

    // The repro: create a mailing in the console, pause it, back to Mailings.
    await page.getByRole('button', { name: 'New mailing' }).click();
    await page.getByLabel('Text').fill('Made in the console');
    await page.getByRole('button', { name: 'Now' }).click();
    await page.getByLabel('End').fill(await localInput(page, 3_600_000));
    await page.getByLabel('Tags', { exact: true }).fill(tag);
    await page.getByRole('button', { name: 'Create mailing' }).click();
    await page.getByRole('heading', { name: /^Mailing \d+$/ }).waitFor();
    const made = page.url().split('/').at(-1)!;
    await expect.poll(() => badge(page).textContent(), { timeout: 10_000 }).toBe('running');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => badge(page).textContent()).toBe('paused');
    // And one over the API while no list is on screen.
    const other = (await createMailing(herald, { name: 'Made over the API', text: 'From the API', filter: { tags: [tag] }, endAt: new Date(Date.now() + 3_600_000).toISOString() })).id;

    await nav(page, 'Mailings');
    await row(page, made).waitFor({ timeout: 5_000 });
    await row(page, other).waitFor({ timeout: 5_000 });
    // Deleted over the API while the list is open: its row goes.
    await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { id } }`, { id: other });
    await herald.ok(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id: other });
    await row(page, other).waitFor({ state: 'detached', timeout: 5_000 });

    // The overview's "Sending now" after a pause and resume made while it was not open.
    await nav(page, 'Overview');
    await page.getByRole('heading', { name: 'Sending now' }).waitFor();
    await page.waitForTimeout(500);
    expect(await row(page, made).count()).toBe(0);
    await nav(page, 'Mailings');
    await row(page, made).getByRole('link').click();
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => badge(page).textContent()).toBe('running');
    await nav(page, 'Overview');
    await row(page, made).waitFor({ timeout: 5_000 });
    await snap(page, 'lists-overview');
    await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { id } }`, { id: made });
    await page.context().close();
  });

  it('should say who paused a mailing and when, with no "at risk", rate or ETA', async () => {
    gateway.set({ latencyMs: 1_000 });
    const tag = await tagged(100);
    const { id } = await createMailing(herald, { name: 'Paused by hand', text: 'Paused by hand', filter: { tags: [tag] }, endAt: new Date(Date.now() + 3_600_000).toISOString() });
    for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
      const page = await signedIn(viewport);
      await page.goto(`${herald.url}/mailings/${id}`);
      if (viewport.width === 1400) {
        await expect.poll(() => badge(page).textContent(), { timeout: 10_000 }).toBe('running');
        // Standing still for a whole rate window before the pause is what made it "at risk".
        await page.waitForTimeout(5_500);
        await page.getByRole('button', { name: 'Pause' }).click();
        await expect.poll(() => badge(page).textContent()).toBe('paused');
      }
      await expect.poll(() => page.locator('.paused-by').textContent(), { timeout: 5_000 }).toMatch(/^Paused by api-token:1 at .+\.$/);
      await page.waitForTimeout(1_000);
      expect(await page.locator('[data-figure="at risk"]').count()).toBe(0);
      expect(await page.locator('[data-figure="msg/s"]').count()).toBe(0);
      expect(await page.locator('[data-figure="ETA"]').count()).toBe(0);
      expect(await page.getByText('At this rate').count()).toBe(0);
      await snap(page, `paused-by-${viewport.width}`);
      await page.context().close();
    }
    await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { id } }`, { id });
  });

  it("should chart a finished mailing over its own span, the same live and after a reload", async () => {
    gateway.set({ latencyMs: 100 });
    const tag = await tagged(60);
    const page = await signedIn();
    const { id } = await createMailing(herald, { name: 'Charted', text: 'Charted', filter: { tags: [tag] } });
    await page.goto(`${herald.url}/mailings/${id}`);
    await untilMailingStatus(herald, id, 'COMPLETED', 30_000);
    // Long after its end: a chart that ran to "now" would have moved on.
    await page.waitForTimeout(4_000);
    const chart = page.locator('.throughput');
    const read = async () => ({
      from: Number(await chart.getAttribute('data-from')),
      to: Number(await chart.getAttribute('data-to')),
      line: await chart.locator('.chart-line').getAttribute('points'),
    });
    const live = await read();
    const [{ first, last }] = await herald.sql<{ first: Date; last: Date }[]>`
      select min(at) as first, max(at) as last from (
        select case when status in ('DELIVERED', 'UNDELIVERED') then sent_at else updated_at end as at from messages where mailing_id = ${id}) done`;
    // Its own span: from its first result to its last (whole-second buckets), not to now.
    expect(live.from).toBeLessThanOrEqual(first.getTime());
    expect(live.from).toBeGreaterThan(first.getTime() - 1_000);
    expect(live.to).toBeGreaterThanOrEqual(last.getTime());
    expect(live.to).toBeLessThan(last.getTime() + 2_000);
    expect(live.line).toBeTruthy();
    await snap(page, 'lists-chart');
    await page.reload();
    await chart.locator('.chart-line').waitFor();
    expect(await read()).toEqual(live);
    await page.context().close();
  });

  it('should sort the mailings list by its columns and filter it by status and name; the overview shows clients, messages per day and recent mailings', async () => {
    const prefix = `srt${Math.random().toString(36).slice(2, 6)}`;
    const ids: Record<string, string> = {};
    for (const [label, failed] of [['a', 3], ['b', 9], ['c', 1]] as const) {
      ids[label] = (await createMailing(herald, { name: `${prefix}-${label}`, text: 'Sorted', startAt: new Date(Date.now() + 3_600_000).toISOString(), endAt: new Date(Date.now() + 7_200_000).toISOString() })).id;
      await herald.sql`insert into mailing_stats (mailing_id, sent, failed) values (${ids[label]}, 10, ${failed})
                       on conflict (mailing_id) do update set sent = excluded.sent, failed = excluded.failed`;
    }
    for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
      const page = await signedIn(viewport);
      if (viewport.width === 390) await page.locator('[data-figure="clients"]').waitFor();
      await nav(page, 'Mailings');
      await page.getByLabel('Name').fill(prefix);
      const order = () => page.locator('table.mailings tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-mailing')));
      await expect.poll(order).toEqual([ids.c, ids.b, ids.a]);
      const header = (key: string) => page.locator(`th button[data-sort-key="${key}"]`);
      await header('FAILED').click();
      await expect.poll(order).toEqual([ids.b, ids.a, ids.c]);
      expect(await page.locator(`tr[data-mailing="${ids.b}"] [data-cell="failed"]`).textContent()).toBe('9');
      expect(await page.locator(`tr[data-mailing="${ids.b}"] [data-cell="failure share"]`).textContent()).toBe('47.4%');
      await header('FAILED').click();
      await expect.poll(order).toEqual([ids.c, ids.a, ids.b]);
      await header('NAME').click();
      await expect.poll(order).toEqual([ids.a, ids.b, ids.c]);
      if (viewport.width === 1400) await snap(page, 'lists-mailings');
      else await snap(page, 'lists-mailings-phone');
      // By status: none of them runs.
      await page.getByLabel('Status').selectOption('RUNNING');
      await expect.poll(() => page.getByText('No mailing matches.').count()).toBe(1);
      await page.getByLabel('Status').selectOption('SCHEDULED');
      await expect.poll(order).toEqual([ids.a, ids.b, ids.c]);

      await nav(page, 'Overview');
      const [{ n }] = await herald.sql<{ n: number }[]>`select count(*)::int as n from clients`;
      await expect.poll(() => page.locator('[data-figure="clients"] .figure-value').textContent()).toBe(String(n));
      await expect.poll(() => page.locator('figure.per-day g[data-day]').count()).toBe(30);
      const today = new Date().toISOString().slice(0, 10);
      expect(Number(await page.locator(`figure.per-day g[data-day="${today}"]`).getAttribute('data-sent'))).toBeGreaterThan(0);
      await page.locator(`tr[data-recent-mailing="${ids.c}"]`).waitFor();
      await snap(page, viewport.width === 1400 ? 'lists-overview-full' : 'lists-overview-phone');
      await page.context().close();
    }
  });
});
