import { describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  backoffMs,
  BUSY_MESSAGE,
  createBooking,
  fetchTickets,
  followBooking,
  getBooking,
  NETWORK_MESSAGE,
  newIdempotencyKey,
} from './api';
import { confirmed, ID, json, mockFetch, networkError, pending, TIERS } from './test-utils';

const noSleep = () => Promise.resolve();

describe('fetchTickets', () => {
  it('reads the tiers from the same origin', async () => {
    const f = mockFetch({ 'GET /tickets': json(200, TIERS) });
    await expect(fetchTickets()).resolves.toEqual(TIERS);
    expect(f.calls[0].url).toBe('/tickets');
  });

  it('turns a failed connection into a retryable network error', async () => {
    mockFetch({ 'GET /tickets': networkError() });
    const err = await fetchTickets().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ kind: 'network', retryable: true, message: NETWORK_MESSAGE });
  });
});

describe('createBooking', () => {
  it('posts JSON with the Idempotency-Key and no wait by default', async () => {
    const f = mockFetch({ 'POST /book': json(202, pending()) });
    const b = await createBooking({ tier: 'GA', quantity: 2, customer: 'Ada' }, 'key-1');
    expect(b).toEqual(pending());
    const call = f.calls[0];
    expect(call.url).toBe('/book');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.headers['idempotency-key']).toBe('key-1');
    expect(call.body).toEqual({ tier: 'GA', quantity: 2, customer: 'Ada' });
  });

  it('leaves out an empty customer and passes ?wait', async () => {
    const f = mockFetch({ 'POST /book': json(200, confirmed()) });
    await createBooking({ tier: 'GA', quantity: 1, customer: '' }, 'k', { waitMs: 2000 });
    expect(f.calls[0].body).toEqual({ tier: 'GA', quantity: 1 });
    expect(f.calls[0].url).toBe('/book?wait=2000');
  });

  it('reports a 4xx with the server message and field, not retryable', async () => {
    mockFetch({ 'POST /book': json(400, { error: 'quantity must be an integer from 1 to 10', field: 'quantity' }) });
    const err = (await createBooking({ tier: 'GA', quantity: 11 }, 'k').catch((e: unknown) => e)) as ApiError;
    expect(err).toMatchObject({
      kind: 'client',
      status: 400,
      field: 'quantity',
      message: 'quantity must be an integer from 1 to 10',
      retryable: false,
    });
  });

  it('reports a 503 as retryable with Retry-After', async () => {
    mockFetch({ 'POST /book': json(503, { error: 'broker unavailable' }, { 'Retry-After': '2' }) });
    const err = (await createBooking({ tier: 'GA', quantity: 1 }, 'k').catch((e: unknown) => e)) as ApiError;
    expect(err).toMatchObject({ kind: 'unavailable', retryAfterS: 2, retryable: true, message: BUSY_MESSAGE });
  });

  it('reports a 429 (rate limited) as retryable, saying when', async () => {
    mockFetch({ 'POST /book': json(429, { error: 'too many requests, slow down' }, { 'Retry-After': '3' }) });
    const err = (await createBooking({ tier: 'GA', quantity: 1 }, 'k').catch((e: unknown) => e)) as ApiError;
    expect(err).toMatchObject({ kind: 'unavailable', status: 429, retryAfterS: 3, retryable: true });
    expect(err.message).toMatch(/try again in 3 s/);
  });

  it('reports another 5xx, or an unreadable body, as a retryable server error', async () => {
    mockFetch({ 'POST /book': { status: 500 } });
    await expect(createBooking({ tier: 'GA', quantity: 1 }, 'k')).rejects.toMatchObject({ kind: 'server', retryable: true });
  });
});

describe('getBooking', () => {
  it('long-polls with ?wait and escapes the id', async () => {
    const f = mockFetch({ 'GET /bookings/:id': json(200, confirmed()) });
    await getBooking(ID, { waitMs: 5000 });
    expect(f.calls[0].url).toBe(`/bookings/${ID}?wait=5000`);
  });

  it('says 404 in the server’s words', async () => {
    mockFetch({ 'GET /bookings/:id': json(404, { error: 'no such booking' }) });
    await expect(getBooking(ID)).rejects.toMatchObject({ kind: 'client', status: 404, message: 'no such booking' });
  });
});

describe('followBooking', () => {
  it('polls while pending and returns the final booking', async () => {
    const answers = [pending(), pending(), confirmed()];
    const f = mockFetch({ 'GET /bookings/:id': () => json(200, answers.shift()) });
    const seen: string[] = [];
    const b = await followBooking(ID, { onUpdate: (x) => seen.push(x.status), sleepFn: noSleep });
    expect(b.status).toBe('confirmed');
    expect(seen).toEqual(['pending', 'pending', 'confirmed']);
    expect(f.calls.every((c) => c.url.endsWith('?wait=5000'))).toBe(true);
  });

  it('rides out network errors and 503s, reporting the trouble once', async () => {
    const answers = [networkError(), json(503, { error: 'x' }, { 'Retry-After': '1' }), json(200, confirmed({ status: 'rejected', reason: 'sold_out', message: 'Not enough tickets available' }))];
    mockFetch({ 'GET /bookings/:id': () => answers.shift()! });
    const trouble: boolean[] = [];
    const sleeps: number[] = [];
    const b = await followBooking(ID, {
      onTrouble: (t) => trouble.push(t),
      sleepFn: async (ms) => void sleeps.push(ms),
    });
    expect(b).toMatchObject({ status: 'rejected', message: 'Not enough tickets available' });
    expect(trouble).toEqual([true, false]);
    expect(sleeps).toEqual([500, 1000]); // backoff, then Retry-After: 1 s
  });

  it('gives up on an answer that will never change (404)', async () => {
    mockFetch({ 'GET /bookings/:id': json(404, { error: 'no such booking' }) });
    await expect(followBooking(ID, { sleepFn: noSleep })).rejects.toMatchObject({ status: 404 });
  });

  it('stops when aborted', async () => {
    mockFetch({ 'GET /bookings/:id': json(200, pending()) });
    const ctrl = new AbortController();
    const done = followBooking(ID, {
      signal: ctrl.signal,
      sleepFn: async () => ctrl.abort(),
    });
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('helpers', () => {
  it('backs off exponentially up to 5 s, and Retry-After wins when longer', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffMs(n))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect(backoffMs(1, 3)).toBe(3000);
  });

  it('makes idempotency keys the API accepts, never the same twice', () => {
    const keys = new Set(Array.from({ length: 200 }, newIdempotencyKey));
    expect(keys.size).toBe(200);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('times a hung request out as a network error', async () => {
    vi.useFakeTimers();
    try {
      vi.stubGlobal(
        'fetch',
        vi.fn(
          (_: unknown, init: RequestInit) =>
            new Promise((_r, reject) =>
              init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
            ),
        ),
      );
      const p = fetchTickets().catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(15_000);
      expect(await p).toMatchObject({ kind: 'network' });
    } finally {
      vi.useRealTimers();
    }
  });
});
