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
