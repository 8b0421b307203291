import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

// Debian's chromium (apt-get install chromium). CI installs it and requires the browser
// tests; on a machine without it they are skipped with a notice rather than failing `npm test`.
const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable && process.env.CI) throw new Error(`${CHROMIUM} is required in CI for the browser tests`);
if (!chromiumAvailable) console.warn(`browser tests skipped: no ${CHROMIUM}`);

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    // Without the background-networking flags Chromium keeps trying Google's hosts, which
    // this machine's closed network refuses.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Records every request a page makes to anywhere but `origin`: a page that works offline makes none. */
export function requestsElsewhere(page: Page, origin: string): string[] {
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(origin)) elsewhere.push(request.url());
  });
  return elsewhere;
}

export const DESKTOP = { width: 1400, height: 900 };
export const PHONE = { width: 390, height: 844 };

export type SignIn = {
  viewport?: { width: number; height: number };
  /** The role the header must then name; without it, any. */
  as?: 'admin' | 'viewer';
  /** Accept every confirm() the page asks (for tests that delete or cancel). */
  acceptDialogs?: boolean;
  /** The browser's time zone; Moscow unless a test says otherwise. */
  timezoneId?: string;
};

/** A new browser context on the console at `url`, signed in with `token` as a user would (the sign-in form). */
export async function signInToConsole(browser: Browser, url: string, token: string, options: SignIn = {}): Promise<Page> {
  const context = await browser.newContext({ timezoneId: options.timezoneId ?? 'Europe/Moscow', viewport: options.viewport ?? DESKTOP });
  const page = await context.newPage();
  if (options.acceptDialogs) page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(`${url}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(options.as ? `signed in as ${options.as}` : /signed in as/).waitFor();
  return page;
}

/** Screenshots for the docs when HERALD_SCREENSHOTS names a folder (`console-<name>.png`), nothing otherwise; `settleMs` lets transitions end. */
export function screenshotter(dir: string | undefined, settleMs = 0): (page: Page, name: string) => Promise<void> {
  return async (page, name) => {
    if (!dir) return;
    if (settleMs > 0) await page.waitForTimeout(settleMs);
    await page.screenshot({ path: path.join(dir, `console-${name}.png`), fullPage: true });
  };
}
