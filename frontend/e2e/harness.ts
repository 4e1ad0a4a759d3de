// Shared pieces of the browser tests: Debian's Chromium driven by playwright-core (nothing is ever
// downloaded), the database reset through psql, a small API client, screenshots, and bounded
// polling of observable state (never bare sleeps).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const BASE_URL = (process.env.BK_E2E_BASE_URL ?? `http://127.0.0.1:${process.env.BK_HTTP_PORT ?? '8080'}`).replace(/\/$/, '');
export const CHROMIUM = process.env.BK_CHROMIUM ?? '/usr/bin/chromium';
export const PSQL = process.env.BK_PSQL ?? 'psql';
export const SCREENSHOT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'screenshots');

// playwright-core gives every launch a fresh temporary --user-data-dir and removes it afterwards.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface Viewport {
  name: 'desktop' | 'phone';
  options: Parameters<Browser['newContext']>[0];
}

export const VIEWPORTS: Viewport[] = [
  { name: 'desktop', options: { viewport: { width: 1280, height: 900 } } },
  { name: 'phone', options: { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } },
];

export async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium package (./bk deps does)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
}

/** A page in a fresh context (empty localStorage) that records console errors and page errors. */
export async function openPage(browser: Browser, vp: Viewport) {
  const context: BrowserContext = await browser.newContext({ ...vp.options, baseURL: BASE_URL });
  const page: Page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { context, page, errors };
}

/** Bounded polling until check() returns a truthy value; the last value or error is in the failure. */
export async function eventually<T>(what: string, check: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function shot(page: Page, vp: Viewport, step: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${vp.name}-${step}.png`), fullPage: true, animations: 'disabled' });
}

// ---- database ----------------------------------------------------------------------------------

function dsn(): string {
  const v = process.env.BK_PG_DSN;
  if (!v) throw new Error('BK_PG_DSN is not set: the browser tests reset tiers through psql (./bk test sets it)');
  return v;
}

export function sql(statement: string): string {
  return execFileSync(PSQL, [dsn(), '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', statement], { encoding: 'utf8' }).trim();
}

export const SEED = {
  VIP: { capacity: 100, name: 'VIP', price: '$100.00' },
  FRONT_ROW: { capacity: 200, name: 'Front Row', price: '$50.00' },
  GA: { capacity: 1000, name: 'General Admission', price: '$10.00' },
} as const;
export type TierCode = keyof typeof SEED;

/** Puts a tier back to a known state: capacity, seats left, and none of its bookings. */
export function resetTier(tier: TierCode, available: number = SEED[tier].capacity, capacity: number = SEED[tier].capacity): void {
  sql(`BEGIN; DELETE FROM bookings WHERE tier = '${tier}'; UPDATE tiers SET capacity = ${capacity}, available = ${available} WHERE tier = '${tier}'; COMMIT;`);
}

export function dbTier(tier: TierCode): { available: number; bookings: number; confirmed: number } {
  const [available, bookings, confirmed] = sql(
    `SELECT t.available, count(b.*), count(b.*) FILTER (WHERE b.status = 'confirmed') FROM tiers t LEFT JOIN bookings b ON b.tier = t.tier WHERE t.tier = '${tier}' GROUP BY t.available`,
  )
    .split('|')
    .map(Number);
  return { available, bookings, confirmed };
}

// ---- API ---------------------------------------------------------------------------------------

export async function apiBook(tier: TierCode, quantity: number, waitMs = 5000): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${BASE_URL}/book${waitMs ? `?wait=${waitMs}` : ''}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tier, quantity, customer: 'e2e sentinel' }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Waits until a booking gets decided: a freshly started processor may need a while before Kafka
 * assigns it the partitions (longer after an earlier test killed one). Books one GA seat; the
 * tests reset the tiers they use, so it leaves nothing behind that matters.
 */
export async function waitProcessing(timeoutMs = 120_000): Promise<void> {
  const first = await apiBook('GA', 1, 0);
  const id = first.body.booking_id as string;
  expect200or202(first.status, first.body);
  await eventually(
    'the processor to decide a warm-up booking',
    async () => {
      const res = await fetch(`${BASE_URL}/bookings/${id}?wait=5000`);
      const b = (await res.json()) as { status?: string };
      return b.status === 'confirmed' || b.status === 'rejected';
    },
    timeoutMs,
    50,
  );
}

function expect200or202(status: number, body: unknown): void {
  if (status !== 200 && status !== 202) throw new Error(`POST /book answered ${status}: ${JSON.stringify(body)}`);
}

export async function waitHealthy(timeoutMs = 30_000): Promise<void> {
  await eventually(
    `${BASE_URL}/health to answer 200`,
    async () => (await fetch(`${BASE_URL}/health`)).status === 200,
    timeoutMs,
    250,
  );
}
