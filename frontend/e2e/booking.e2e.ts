// The booking journey in real headless Chromium against the real stack (bk-ingress serving the
// built app, bk-processor, Kafka, PostgreSQL), once on a desktop window and once on a 360 px phone.
// Every test resets the tiers it uses, so the order of the tests and earlier test stages don't matter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page, Request } from 'playwright-core';
import {
  apiBook,
  BASE_URL,
  dbTier,
  eventually,
  launch,
  openPage,
  resetTier,
  SEED,
  shot,
  VIEWPORTS,
  waitHealthy,
  waitProcessing,
  type TierCode,
  type Viewport,
} from './harness';

let browser: Browser;

beforeAll(async () => {
  await waitHealthy();
  await waitProcessing();
  browser = await launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

/** Runs body with a fresh page; fails on any console error not explicitly expected. */
async function withPage(vp: Viewport, body: (page: Page) => Promise<void>, expectedErrors: RegExp[] = []) {
  const { context, page, errors } = await openPage(browser, vp);
  try {
    await body(page);
    const unexpected = errors.filter((e) => !expectedErrors.some((re) => re.test(e)));
    expect(unexpected, 'console errors').toEqual([]);
  } finally {
    await context.close();
  }
}

const card = (page: Page, tier: TierCode) => page.getByTestId(`tier-${tier}`);
const seatsText = (page: Page, tier: TierCode) => card(page, tier).getByTestId('seats').innerText();
const status = (page: Page) => page.getByTestId('booking-status');
const bookButton = (page: Page) => page.locator('button.btn-book');

async function load(page: Page) {
  await page.goto('/');
  await page.getByRole('radio', { name: 'General Admission' }).waitFor({ state: 'attached' });
}

async function choose(page: Page, tier: TierCode, quantity: number, name?: string) {
  await card(page, tier).click();
  await eventually(`${tier} to be selected`, () => page.getByRole('radio', { name: SEED[tier].name }).isChecked());
  const qty = page.getByLabel('Quantity');
  await qty.fill(String(quantity));
  await qty.blur();
  await eventually(`quantity ${quantity}`, async () => (await qty.inputValue()) === String(quantity));
  if (name !== undefined) await page.getByLabel(/Name on the booking/).fill(name);
}

async function waitPhase(page: Page, phase: string, timeoutMs = 20_000) {
  return eventually(`booking status "${phase}"`, async () => (await status(page).getAttribute('data-phase')) === phase, timeoutMs);
}

describe.each(VIEWPORTS)('on a $name screen', (vp) => {
  it('loads the page: every tier with its price and live seats left', async () => {
    for (const t of Object.keys(SEED) as TierCode[]) resetTier(t);
    await withPage(vp, async (page) => {
      await load(page);
      for (const [tier, seed] of Object.entries(SEED) as [TierCode, (typeof SEED)[TierCode]][]) {
        const c = card(page, tier);
        expect(await c.innerText()).toContain(seed.price);
        expect(await seatsText(page, tier)).toBe(`${seed.capacity.toLocaleString('en-US')} of ${seed.capacity.toLocaleString('en-US')} left`);
      }
      await eventually('the live badge', async () => (await page.getByTestId('liveness').innerText()).includes('Live'));
      expect(await page.getByRole('status').count()).toBe(1); // the aria-live region for booking status
      await shot(page, vp, '01-loaded');

      // Availability is live: a change in the database shows up without a reload.
      resetTier('GA', 990);
      await eventually('GA to show 990 seats left', async () => (await seatsText(page, 'GA')) === '990 of 1,000 left', 6_000);
    });
  });

  it('books GA ×2: confirmation with id, tier, quantity and total, and the seats-left figure drops', async () => {
    resetTier('GA');
    await withPage(vp, async (page) => {
      await load(page);
      await eventually('1,000 GA seats', async () => (await seatsText(page, 'GA')) === '1,000 of 1,000 left');
      await choose(page, 'GA', 2, `E2E ${vp.name}`);
      expect(await page.getByTestId('total').innerText()).toBe('$20.00');
      await shot(page, vp, '02-ga-form');
      await bookButton(page).click();
      await waitPhase(page, 'confirmed');
      const id = await status(page).getByTestId('booking-id').innerText();
      expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(await status(page).getByTestId('booking-tier').innerText()).toBe('General Admission');
      expect(await status(page).getByTestId('booking-quantity').innerText()).toBe('2 tickets');
      expect(await status(page).getByTestId('booking-total').innerText()).toBe('$20.00');
      await eventually('GA to show 998 seats left', async () => (await seatsText(page, 'GA')) === '998 of 1,000 left', 8_000);
      expect(dbTier('GA')).toEqual({ available: 998, bookings: 1, confirmed: 1 });
      // The booking is listed under My bookings.
      await page.locator(`[data-booking-id="${id}"][data-status="confirmed"]`).waitFor();
      await shot(page, vp, '03-ga-confirmed');
    });
  });

  it('sells out a tier and shows the sold-out state', async () => {
    resetTier('VIP', 3);
    await withPage(vp, async (page) => {
      await load(page);
      await eventually('3 VIP seats', async () => (await seatsText(page, 'VIP')) === '3 of 100 left');
      await card(page, 'VIP').click();
      // The quantity is capped at the seats left.
      expect(await page.getByLabel('Quantity').getAttribute('max')).toBe('3');
      await page.getByLabel('Quantity').fill('9');
      await page.getByLabel('Quantity').blur();
      await eventually('quantity capped at 3', async () => (await page.getByLabel('Quantity').inputValue()) === '3');
      await bookButton(page).click();
      await waitPhase(page, 'confirmed');
      await eventually('VIP sold out', async () => (await card(page, 'VIP').getByTestId('badge').innerText()).toLowerCase() === 'sold out', 8_000);
      expect(await seatsText(page, 'VIP')).toBe('0 of 100 left');
      expect(await page.getByRole('radio', { name: 'VIP' }).isDisabled()).toBe(true);
      expect(await bookButton(page).getAttribute('aria-disabled')).toBe('true');
      expect(await bookButton(page).innerText()).toBe('Sold out');
      expect(dbTier('VIP')).toEqual({ available: 0, bookings: 1, confirmed: 1 });
      await shot(page, vp, '04-vip-sold-out');
    });
  });

  it('shows a clear rejection when the seats went to someone else first', async () => {
    resetTier('FRONT_ROW', 5);
    await withPage(vp, async (page) => {
      await load(page);
      await eventually('5 Front Row seats', async () => (await seatsText(page, 'FRONT_ROW')) === '5 of 200 left');
      await choose(page, 'FRONT_ROW', 4);
      // Someone else books 3 of the 5 seats while this page still shows 5 (a stale figure).
      await page.route('**/tickets', async (route) => {
        try {
          const res = await route.fetch();
          const tiers = (await res.json()) as { tier: string; available: number }[];
          await route.fulfill({ response: res, json: tiers.map((t) => (t.tier === 'FRONT_ROW' ? { ...t, available: 5 } : t)) });
        } catch {
          // The page gave up on this request (it aborts a poll it replaces): nothing to answer.
        }
      });
      const other = await apiBook('FRONT_ROW', 3);
      expect(other.body.status).toBe('confirmed');
      await bookButton(page).click();
      await waitPhase(page, 'rejected');
      expect(await status(page).innerText()).toContain('Not enough tickets available');
      await page.unroute('**/tickets');
      await eventually('2 Front Row seats', async () => (await seatsText(page, 'FRONT_ROW')) === '2 of 200 left', 8_000);
      expect(dbTier('FRONT_ROW')).toEqual({ available: 2, bookings: 2, confirmed: 1 });
      await shot(page, vp, '05-rejected');
    });
  });

  it('a double click books once', async () => {
    resetTier('FRONT_ROW');
    await withPage(vp, async (page) => {
      const posts: Request[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/book') posts.push(r);
      });
      await load(page);
      await eventually('200 Front Row seats', async () => (await seatsText(page, 'FRONT_ROW')) === '200 of 200 left');
      await choose(page, 'FRONT_ROW', 1);
      await bookButton(page).dblclick();
      await waitPhase(page, 'confirmed');
      // Every POST the page sent has been answered (202 = in Kafka) ...
      await eventually('all POST /book answers', async () => {
        for (const r of posts) if (!(await r.response())) return false;
        return true;
      });
      // ... so once a booking sent after them is decided, Kafka's order within the tier guarantees
      // the page's bookings are decided too.
      const sentinel = await apiBook('FRONT_ROW', 1);
      expect(sentinel.body.status).toBe('confirmed');
      expect(dbTier('FRONT_ROW')).toEqual({ available: 198, bookings: 2, confirmed: 2 });
      expect(new Set(posts.map((r) => r.headers()['idempotency-key'])).size).toBe(1);
      await shot(page, vp, '06-double-click');
    });
  });

  it('a retry after a lost answer keeps what was typed and books once', async () => {
    resetTier('GA');
    await withPage(
      vp,
      async (page) => {
        const keys: string[] = [];
        let firstId = '';
        await page.route('**/book', async (route) => {
          keys.push(route.request().headers()['idempotency-key']);
          if (keys.length === 1) {
            // The server gets the booking, but the answer never reaches the browser.
            const res = await route.fetch();
            firstId = ((await res.json()) as { booking_id: string }).booking_id;
            await route.abort('connectionreset');
          } else {
            await route.continue();
          }
        });
        await load(page);
        await choose(page, 'GA', 3, 'Retry Ranger');
        await bookButton(page).click();
        await waitPhase(page, 'error');
        expect(await status(page).innerText()).toContain('couldn’t reach the box office');
        expect(await page.getByLabel(/Name on the booking/).inputValue()).toBe('Retry Ranger');
        expect(await page.getByLabel('Quantity').inputValue()).toBe('3');
        await shot(page, vp, '07-network-error');
        await page.getByRole('button', { name: 'Try again' }).click();
        await waitPhase(page, 'confirmed');
        expect(keys).toHaveLength(2);
        expect(keys[1]).toBe(keys[0]);
        expect(await status(page).getByTestId('booking-id').innerText()).toBe(firstId);
        expect(dbTier('GA')).toEqual({ available: 997, bookings: 1, confirmed: 1 });
        await shot(page, vp, '08-retried');
      },
      [/Failed to load resource/],
    );
  });

  it('a reload keeps My bookings', async () => {
    resetTier('GA');
    await withPage(vp, async (page) => {
      await load(page);
      await choose(page, 'GA', 1);
      await bookButton(page).click();
      await waitPhase(page, 'confirmed');
      const id = await status(page).getByTestId('booking-id').innerText();
      await page.getByRole('button', { name: 'Book more tickets' }).click();
      await choose(page, 'GA', 2);
      await bookButton(page).click();
      await waitPhase(page, 'confirmed');
      const id2 = await status(page).getByTestId('booking-id').innerText();
      await page.reload();
      await load(page);
      const items = page.getByTestId('my-bookings').getByRole('listitem');
      await eventually('two bookings listed after the reload', async () => (await items.count()) === 2);
      expect(await items.nth(0).getAttribute('data-booking-id')).toBe(id2);
      expect(await items.nth(1).getAttribute('data-booking-id')).toBe(id);
      expect(await items.nth(0).getByTestId('booking-state').innerText()).toMatch(/confirmed/i);
      expect(await items.nth(0).innerText()).toContain('2 tickets');
      await page.getByTestId('my-bookings').scrollIntoViewIfNeeded();
      await shot(page, vp, '09-after-reload');
    });
  });
});

describe('keyboard and serving', () => {
  it('books with the keyboard alone, with a visible focus ring', async () => {
    for (const t of Object.keys(SEED) as TierCode[]) resetTier(t);
    await withPage(VIEWPORTS[0], async (page) => {
      await load(page);
      await page.keyboard.press('Tab'); // the checked tier's radio
      const focused = () => page.evaluate(() => document.activeElement?.getAttribute('value') ?? document.activeElement?.id ?? '');
      await eventually('a tier radio to have focus', async () => ['VIP', 'FRONT_ROW', 'GA'].includes(await focused()));
      const ring = await card(page, (await focused()) as TierCode).evaluate((el) => getComputedStyle(el).outlineStyle);
      expect(ring).toBe('solid');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await eventually('GA selected by keyboard', () => page.getByRole('radio', { name: 'General Admission' }).isChecked());
      await page.keyboard.press('Tab'); // "one fewer" is disabled at 1, so: the quantity input
      await page.keyboard.press('Tab'); // one more
      await page.keyboard.press('Enter');
      await eventually('quantity 2', async () => (await page.getByLabel('Quantity').inputValue()) === '2');
      await page.keyboard.press('Tab'); // name
      await page.keyboard.type('Keyboard Kim');
      await page.keyboard.press('Enter'); // submits the form
      await waitPhase(page, 'confirmed');
      expect(await status(page).getByTestId('booking-quantity').innerText()).toBe('2 tickets');
      await shot(page, VIEWPORTS[0], '10-keyboard');
    });
  });

  it('the ingress serves the app: index.html not cached, hashed assets cached for a year', async () => {
    const index = await fetch(`${BASE_URL}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) {
      const res = await fetch(BASE_URL + a);
      expect(res.status, a).toBe(200);
      expect(res.headers.get('cache-control'), a).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type'), a).toMatch(/^(text\/javascript|text\/css)/);
    }
    const icon = await fetch(`${BASE_URL}/favicon.svg`);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
  });
});
