/**
 * A real browser for the inspector's tests: Debian's chromium, driven by playwright-core (which
 * downloads nothing). Every request a page makes is recorded, and any to a host other than
 * 127.0.0.1 is refused and listed: the page must work without the internet.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of each view, for a person to look at (the README's come from here). */
export const ARTIFACTS = '.tmp/inspector';

export function browserUnavailable(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)`;
}

export function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

export interface OpenedPage {
  readonly page: Page;
  /** Every URL the page asked for. */
  readonly requests: string[];
  /** Those not on 127.0.0.1 (refused). */
  readonly outside: string[];
  /** Uncaught errors and console errors of the page. */
  readonly errors: string[];
}

export async function openInspector(browser: Browser, url: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const opened: OpenedPage = { page, requests: [], outside: [], errors: [] };
  page.on('pageerror', (error) => opened.errors.push(error.message));
  page.on('console', (m) => {
    if (m.type() === 'error') opened.errors.push(m.text());
  });
  await page.route('**/*', (route) => {
    const target = new URL(route.request().url());
    opened.requests.push(target.href);
    if (target.hostname !== '127.0.0.1') {
      opened.outside.push(target.href);
      return route.abort();
    }
    return route.continue();
  });
  await page.goto(url);
  await page.evaluate(() => (globalThis as { inspectorReady?: Promise<boolean> }).inspectorReady);
  return opened;
}
