/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { chromiumAvailable, launchChromium } from './support/browser';
import { startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';

// `HERALD_SCREENSHOTS=<dir>` also writes the banner's screenshots (desktop and phone) there.
const SCREENSHOTS = process.env.HERALD_SCREENSHOTS;

let simulated: TestHerald;
let real: TestHerald;
let gateway: GatewaySimulator;
let browser: Browser;
beforeAll(async () => {
  if (!chromiumAvailable) return;
  simulated = await startTestHerald(); // no SENDER_URL: the built-in simulator
  const gw = await startTestGateway();
  gateway = gw.simulator;
  real = await startTestHerald({ ...gw.config }); // a gateway of its own, as a real provider would be
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await simulated?.stop();
  await real?.stop();
  await gateway?.stop();
});

async function signedIn(url: string, token: string, viewport = { width: 1400, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(/signed in as/).waitFor();
  return page;
}

describe.runIf(chromiumAvailable)('the simulator banner', () => {
  it('should say on every page that messages go to the built-in simulator, for admins and viewers', async () => {
    for (const [token, viewport, name] of [
      [ADMIN_TOKEN, { width: 1400, height: 900 }, 'desktop'],
      [VIEWER_TOKEN, { width: 390, height: 844 }, 'phone'],
    ] as const) {
      const page = await signedIn(simulated.url, token, viewport);
      const banner = page.getByTestId('simulator-banner');
      await banner.waitFor();
      expect(await banner.innerText()).toMatch(/built-in gateway simulator \(default\); none reaches a phone/);
      await page.getByRole('link', { name: 'Mailings', exact: true }).click();
      await page.getByRole('heading', { name: 'Mailings' }).first().waitFor();
      expect(await banner.isVisible()).toBe(true);
      // Its link opens the controls, served on Herald's own port.
      expect(await banner.getByRole('link').getAttribute('href')).toBe('/_sim/stats');
      if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/simulator-banner-${name}.png` });
      await page.context().close();
    }
    const stats = await fetch(`${simulated.url}/_sim/stats`);
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ mode: 'steady', phase: null });
  });

  it('should show no banner, and serve no /_sim controls, with a real gateway', async () => {
    const page = await signedIn(real.url, ADMIN_TOKEN);
    // The providers panel of the overview has loaded by the time its provider shows.
    await page.getByText('default', { exact: true }).first().waitFor();
    expect(await page.getByTestId('simulator-banner').count()).toBe(0);
    await page.context().close();
    expect((await fetch(`${real.url}/_sim/stats`)).status).not.toBe(200);
  });
});
