/// <reference lib="dom" />
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProvidersFile } from '../src/providers/providers.file';
import { chromiumAvailable, launchChromium, requestsElsewhere, screenshotter, signInToConsole } from './support/browser';
import { insertClients, phonesOf } from './support/fixtures';
import { GATEWAY_TOKEN, startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';

// The console's Replies (/inbound) and Webhooks (/webhooks, /webhooks/:id) pages against a
// real Herald: replies posted as a provider posts them, webhooks delivered to a real HTTP
// receiver. `HERALD_SCREENSHOTS=docs npx vitest run tests/console-webhooks.browser.test.ts`
// also writes docs/console-inbound.png, console-webhooks.png, console-webhook-secret.png and
// console-webhook.png.
const SCREENSHOTS = process.env.HERALD_SCREENSHOTS;
const RECEIPT_TOKEN = 'web-receipt-token-0123456789';

type Received = { headers: IncomingHttpHeaders; body: string };

let herald: TestHerald;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  if (!chromiumAvailable) return;
  gateway = await startTestGateway();
  const providers = parseProvidersFile(
    JSON.stringify({
      providers: [{ name: 'web', type: 'http', url: '${WEB_URL}', token: '${WEB_TOKEN}', receiptToken: RECEIPT_TOKEN }],
      routes: [{ providers: ['web'] }],
    }),
    { WEB_URL: gateway.url, WEB_TOKEN: GATEWAY_TOKEN },
  );
  herald = await startTestHerald({ providers });
  // The webhook receiver: answers 200 to every POST and keeps what it got.
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/herald`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  await herald?.stop();
  await gateway?.simulator.stop();
});

const signedIn = (token: string, viewport = { width: 1280, height: 900 }): Promise<Page> =>
  signInToConsole(browser, herald.url, token, { viewport, as: token === ADMIN_TOKEN ? 'admin' : 'viewer', acceptDialogs: true });

const snap = screenshotter(SCREENSHOTS);

/** A reply as the provider `web` posts it to Herald. */
async function reply(from: string, text: string): Promise<void> {
  const res = await fetch(`${herald.url}/providers/web/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${RECEIPT_TOKEN}` },
    body: JSON.stringify({ from, text }),
  });
  expect(res.status, await res.text()).toBeLessThan(300);
}

const rowsFrom = (page: Page) => page.locator('table.inbound tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-from')));

describe.runIf(chromiumAvailable)('the console’s replies and webhooks pages', { timeout: 90_000 }, () => {
  it('should list replies newest first, add new ones live, badge opt-outs, find by phone and link the client', async () => {
    const [id] = await insertClients(herald, 1, { operatorCode: '916' });
    const phone = String([...(await phonesOf(herald, [id]))][0]);
    const page = await signedIn(ADMIN_TOKEN);
    const elsewhere = requestsElsewhere(page, herald.url);
    await page.getByRole('link', { name: 'Replies' }).click();
    await page.getByRole('heading', { name: 'Replies' }).waitFor();
    await page.getByText('No reply has been received.').waitFor();

    // Live: each reply goes on top as it arrives, without reading the page again.
    await reply(phone, 'Is the sale still on?');
    const first = page.locator(`tr[data-from="${phone}"]`).first();
    await first.waitFor();
    expect(await first.locator('td').nth(1).textContent()).toBe('Is the sale still on?');
    expect(await first.locator('td').nth(3).textContent()).toBe('web');
    expect(await first.locator('td').nth(5).textContent()).toBe('—');
    await reply(phone, 'STOP');
    await expect.poll(() => page.locator('table.inbound tbody tr').first().locator('td').nth(1).textContent()).toBe('STOP');
    expect(await page.locator('table.inbound tbody tr').first().locator('.badge').textContent()).toBe('opted out');
    // What the page shows is what Herald did: the phone is opted out now.
    expect((await herald.ok(`query($phone: String) { optOuts(phone: $phone) { edges { node { phone } } } }`, { phone })).optOuts.edges).toEqual([{ node: { phone } }]);
    await reply(phone, 'START');
    await expect.poll(() => page.locator('table.inbound tbody tr').first().locator('.badge').textContent()).toBe('opted in');
    // A phone no client has: no client link.
    await reply('79990001122', 'who is this?');
    await expect.poll(() => page.locator('tr[data-from="79990001122"] td').nth(4).textContent()).toBe('none');
    await snap(page, 'inbound');

    // Found by digits of the phone: only its replies, newest first.
    await page.getByLabel('Find a phone').fill(phone.slice(3, 9));
    await expect.poll(() => rowsFrom(page)).toEqual([phone, phone, phone]);
    await page.getByLabel('Find a phone').fill('12ab');
    await expect.poll(() => page.locator('label', { hasText: 'Find a phone' }).locator('.field-error').count()).toBe(1);
    await page.getByLabel('Find a phone').fill('');
    await expect.poll(() => rowsFrom(page)).toEqual(['79990001122', phone, phone, phone]);

    // The client link opens the clients found by that phone.
    await page.locator(`tr[data-from="${phone}"]`).first().getByRole('link').click();
    await page.locator(`tr[data-client="${phone}"]`).waitFor();
    expect(await page.getByLabel('Phone', { exact: true }).inputValue()).toBe(phone);
    expect(elsewhere).toEqual([]);
    await page.context().close();
  });

  it('should count replies that arrive while a later page is read, and show them on the first', async () => {
    for (let i = 0; i < 26; i++) await reply(`7903100${String(i).padStart(4, '0')}`, `reply ${i}`);
    const page = await signedIn(ADMIN_TOKEN);
    await page.getByRole('link', { name: 'Replies' }).click();
    await page.locator('table.inbound tbody tr').nth(24).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.getByText('page 2').count()).toBe(1);
    const onPage2 = await rowsFrom(page);
    await reply('79031009998', 'late one');
    await reply('79031009999', 'later one');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('2 new replies since this page was read');
    expect(await rowsFrom(page)).toEqual(onPage2); // the rows being read do not move
    await page.getByRole('button', { name: 'Show the newest' }).click();
    await expect.poll(async () => (await rowsFrom(page)).slice(0, 2)).toEqual(['79031009999', '79031009998']);
    expect(await page.getByText('new replies since').count()).toBe(0);
    await page.context().close();
  });

  it('should create a webhook (a refused URL’s error next to the URL field), show its secret once, send a test and list its deliveries', async () => {
    const page = await signedIn(ADMIN_TOKEN);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const form = page.getByRole('form', { name: 'new webhook' });
    await form.waitFor();

    // Herald's verdicts, next to the field they are about; nothing is created.
    await form.getByLabel('URL').fill('ftp://example.com/hook');
    await form.getByLabel(/message status/).check();
    await form.getByRole('button', { name: 'Create webhook' }).click();
    await expect.poll(() => form.locator('label', { hasText: 'URL' }).locator('.field-error').count()).toBe(1);
    expect(await form.locator('label', { hasText: 'URL' }).locator('.field-error').textContent()).toMatch(/http/);
    expect((await herald.ok(`{ webhooks { id } }`)).webhooks).toEqual([]);

    await form.getByLabel('URL').fill(receiverUrl);
    await form.getByLabel(/inbound/).check();
    await form.getByLabel('Description').fill('CRM sync');
    await form.getByRole('button', { name: 'Create webhook' }).click();
    const panel = page.getByRole('region', { name: 'webhook secret' });
    await panel.getByText('shown only now').waitFor();
    const secret = (await panel.locator('[data-secret]').textContent())!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    await snap(page, 'webhook-secret');
    const [webhook] = (await herald.ok(`{ webhooks { id url events description enabled } }`)).webhooks;
    expect(webhook).toMatchObject({ url: receiverUrl, events: ['MESSAGE_STATUS', 'INBOUND'], description: 'CRM sync', enabled: true });
    const row = page.locator(`tr[data-webhook="${receiverUrl}"]`);
    await row.waitFor();
    expect(await row.locator('.badge').textContent()).toBe('enabled');

    // Shown once: after Done, and on coming back, the secret is nowhere on the page.
    await panel.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('link', { name: 'Replies' }).click();
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await row.waitFor();
    expect(await page.content()).not.toContain(secret.slice(6));

    // The detail: Send test shows the test delivery, which the receiver gets signed with that secret.
    await row.getByRole('link', { name: receiverUrl }).click();
    await page.waitForURL(`${herald.url}/webhooks/${webhook.id}`);
    await page.getByText('Nothing has been sent to this webhook yet.', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Send test' }).click();
    const tested = page.getByRole('status', { name: 'test delivery' });
    await tested.waitFor();
    const eventId = (await tested.locator('code').textContent())!;
    await expect.poll(() => tested.locator('.badge').textContent(), { timeout: 15_000 }).toBe('delivered');
    const delivery = page.locator(`tr[data-delivery="${eventId}"]`);
    expect(await delivery.getAttribute('data-type')).toBe('TEST');
    expect(await delivery.getAttribute('data-status')).toBe('DELIVERED');
    expect(await delivery.locator('td').nth(3).textContent()).toBe('1');
    const got = received.find((r) => r.headers['webhook-id'] === eventId);
    expect(got).toBeDefined();
    const event = new StandardWebhook(secret).verify(got!.body, got!.headers as Record<string, string>) as { type: string; data: { webhookId: string } };
    expect(event).toMatchObject({ type: 'TEST', data: { webhookId: webhook.id } });
    await snap(page, 'webhook');

    // Disable and enable again: the badge says it, and so does Herald.
    await page.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.locator('.page-head .badge').first().textContent()).toBe('disabled');
    expect((await herald.ok(`query($id: ID!) { webhook(id: $id) { enabled } }`, { id: webhook.id })).webhook.enabled).toBe(false);
    await page.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => page.locator('.page-head .badge').first().textContent()).toBe('enabled');
    expect((await herald.ok(`query($id: ID!) { webhook(id: $id) { enabled } }`, { id: webhook.id })).webhook.enabled).toBe(true);

    // The list counts its deliveries.
    await page.getByRole('link', { name: 'Webhooks', exact: true }).first().click();
    await expect.poll(() => row.locator('[data-pending]').getAttribute('data-pending')).toBe('0');
    expect(await row.locator('[data-failed]').getAttribute('data-failed')).toBe('0');
    await snap(page, 'webhooks');

    // Delete, after a confirmation (accepted here): gone from the list and from Herald.
    await row.getByRole('link', { name: receiverUrl }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${herald.url}/webhooks`);
    await page.getByText('No webhook yet.').waitFor();
    expect((await herald.ok(`{ webhooks { id } }`)).webhooks).toEqual([]);
    await page.context().close();
  });

  it('should show a viewer a read-only notice on the webhooks page, and no form', async () => {
    const page = await signedIn(VIEWER_TOKEN);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('note').getByText('Webhooks are managed by an admin').waitFor();
    expect(await page.getByRole('form', { name: 'new webhook' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Create webhook|Send test|Disable|Enable|Delete)$/ }).count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    // A viewer reads replies as an admin does.
    await page.getByRole('link', { name: 'Replies' }).click();
    await page.locator('table.inbound tbody tr').first().waitFor();
    await page.context().close();
  });

  it('should fit a phone’s width on the replies page', async () => {
    const page = await signedIn(ADMIN_TOKEN, { width: 390, height: 844 });
    await page.getByRole('link', { name: 'Replies' }).click();
    await page.locator('table.inbound tbody tr').first().waitFor();
    // The page itself does not scroll sideways: a wide table scrolls inside its own box.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.context().close();
  });
});
