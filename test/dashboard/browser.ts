// Debian's Chromium driven by playwright-core, for the dashboard's browser tests: installed with
// apt-get when missing (test/support/debian.ts), headless, in a fresh profile, talking to loopback
// only. Every request a page makes is recorded, so a test can say none left the machine.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { requireCommand } from '../support/debian.js';
import { ROOT } from '../support/paths.js';

/** Screenshots and other artifacts of the browser tests (git-ignored). */
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');

export async function launchChromium(): Promise<Browser> {
  const executablePath = await requireCommand('chromium', 'chromium', 'the dashboard browser tests');
  mkdirSync(ARTIFACTS, { recursive: true });
  // Playwright gives each launch a fresh, temporary profile (user data directory).
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: 60_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export interface DashboardPage {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested. */
  requests: string[];
  /** Every dialog (alert, confirm, prompt) the page opened. */
  dialogs: string[];
  /** Uncaught errors and console errors of the page. */
  errors: string[];
}

export async function openDashboard(browser: Browser, url: string, viewport = { width: 1280, height: 800 }): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const requests: string[] = [];
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  return { context, page, requests, dialogs, errors };
}

/** Signs in through the form, as a person would, and waits for the signed-in view. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app').waitFor({ state: 'visible' });
}
