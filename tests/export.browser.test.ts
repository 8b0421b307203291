/// <reference lib="dom" />
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from './support/browser';
import { createMailing, insertClients, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';

let herald: TestHerald;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let browser: Browser;
beforeAll(async () => {
  if (!chromiumAvailable) return;
  gateway = await startTestGateway();
  herald = await startTestHerald(gateway.config);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await herald?.stop();
  await gateway?.simulator.stop();
});

describe.skipIf(!chromiumAvailable)("the console's mailing page", () => {
  it('should save the mailing\'s messages as CSV from "Export CSV", sending the token in a header and never in a URL', async () => {
    await insertClients(herald, 4, { tags: ['csv'] });
    const mailing = await createMailing(herald, { text: 'Exported, "quoted"', filter: { tags: ['csv'] } });
    await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);

    const context = await browser.newContext({ acceptDownloads: true });
    const page: Page = await context.newPage();
    const urls: string[] = [];
    page.on('request', (r) => void urls.push(r.url()));
    await page.goto(`${herald.url}/`);
    await page.getByLabel('API token').fill(VIEWER_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('signed in as viewer').waitFor();
    await page.goto(`${herald.url}/mailings/${mailing.id}`);
    const exportCsv = page.getByRole('link', { name: 'Export CSV' });
    expect(await exportCsv.getAttribute('href')).toBe(`/mailings/${mailing.id}/messages.csv`);

    const [download] = await Promise.all([page.waitForEvent('download'), exportCsv.click()]);
    expect(download.suggestedFilename()).toBe(`mailing-${mailing.id}-messages.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,clientId,phone,status,attempts,sentAt,lastError,deliveredAt');
    expect(lines.slice(1).filter((l) => /,SENT,1,/.test(l))).toHaveLength(4);
    expect(urls.some((u) => u.includes(VIEWER_TOKEN))).toBe(false);
    const exportLine = herald.logs.find((l) => l.msg === 'messages exported' && l.mailingId === Number(mailing.id));
    expect(exportLine).toMatchObject({ rows: 4 });
    await context.close();
  });
});
