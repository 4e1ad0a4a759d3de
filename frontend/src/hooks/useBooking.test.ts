import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { BookingRequest } from '../api';
import { confirmed, deferred, ID, json, mockFetch, networkError, pending, type Reply } from '../test-utils';
import { bookingReducer, IDLE, keyFor, mergeBooking, useBooking, type BookingMachine } from './useBooking';

const REQ: BookingRequest = { tier: 'GA', quantity: 2 };
const attempt = { request: REQ, key: 'k1' };
const submitting: BookingMachine = { phase: 'submitting', attempt };
const pend: BookingMachine = { phase: 'pending', attempt, booking: pending(), reconnecting: false };
const failedNet: BookingMachine = { phase: 'error', attempt, error: { kind: 'network', message: 'x', retryable: true } };
const failed400: BookingMachine = {
  phase: 'error',
  attempt,
  error: { kind: 'client', message: 'bad', field: 'quantity', retryable: false },
};

describe('bookingReducer: pending → final', () => {
  it.each<[string, BookingMachine, Parameters<typeof bookingReducer>[1], string]>([
    ['submit from idle', IDLE, { type: 'submit', attempt }, 'submitting'],
    ['submit while submitting is ignored', submitting, { type: 'submit', attempt: { request: REQ, key: 'k2' } }, 'submitting'],
    ['submit while pending is ignored', pend, { type: 'submit', attempt }, 'pending'],
    ['submit after an error', failedNet, { type: 'submit', attempt }, 'submitting'],
    ['202 makes it pending', submitting, { type: 'accepted', booking: pending() }, 'pending'],
    ['200 confirmed at once', submitting, { type: 'accepted', booking: confirmed() }, 'confirmed'],
    ['200 rejected at once', submitting, { type: 'accepted', booking: confirmed({ status: 'rejected' }) }, 'rejected'],
    ['pending stays pending', pend, { type: 'update', booking: pending() }, 'pending'],
    ['pending → confirmed', pend, { type: 'update', booking: confirmed() }, 'confirmed'],
    ['pending → rejected', pend, { type: 'update', booking: confirmed({ status: 'rejected' }) }, 'rejected'],
    ['an update for another booking is ignored', pend, { type: 'update', booking: confirmed({ booking_id: 'other' }) }, 'pending'],
    ['an update while idle is ignored', IDLE, { type: 'update', booking: confirmed() }, 'idle'],
    ['a failed POST', submitting, { type: 'failed', error: failedNet.phase === 'error' ? failedNet.error : (null as never) }, 'error'],
    ['a late failure after reset is ignored', IDLE, { type: 'failed', error: { kind: 'network', message: '', retryable: true } }, 'idle'],
    ['reset', pend, { type: 'reset' }, 'idle'],
  ])('%s', (_name, from, event, to) => {
    expect(bookingReducer(from, event).phase).toBe(to);
  });

  it('keeps the attempt through the machine and flags reconnecting', () => {
    let s = bookingReducer(IDLE, { type: 'submit', attempt });
    s = bookingReducer(s, { type: 'accepted', booking: pending() });
    s = bookingReducer(s, { type: 'trouble', reconnecting: true });
    expect(s).toMatchObject({ phase: 'pending', reconnecting: true, attempt });
    s = bookingReducer(s, { type: 'update', booking: { booking_id: ID, status: 'pending' } });
    expect(s).toMatchObject({ phase: 'pending', reconnecting: false, booking: { tier: 'GA', quantity: 2 } });
    s = bookingReducer(s, { type: 'update', booking: confirmed() });
    expect(s).toMatchObject({ phase: 'confirmed', attempt, booking: { amount_cents: 2000 } });
  });

  it('merges answers without losing known fields', () => {
    expect(mergeBooking(pending(), { booking_id: ID, status: 'pending' })).toEqual(pending());
  });
});

describe('keyFor: idempotency key reuse', () => {
  const fresh = () => 'fresh';
  it('reuses the key when the same request is sent again after a retryable failure', () => {
    expect(keyFor(failedNet, { ...REQ }, fresh)).toBe('k1');
  });
  it('uses a new key for a changed request, after a 4xx, after a final answer, and from idle', () => {
    expect(keyFor(failedNet, { ...REQ, quantity: 3 }, fresh)).toBe('fresh');
    expect(keyFor(failedNet, { ...REQ, customer: 'Ada' }, fresh)).toBe('fresh');
    expect(keyFor(failed400, REQ, fresh)).toBe('fresh');
    expect(keyFor({ phase: 'confirmed', attempt, booking: confirmed() }, REQ, fresh)).toBe('fresh');
    expect(keyFor(IDLE, REQ, fresh)).toBe('fresh');
  });
});

describe('useBooking', () => {
  it('follows a 202 with long-polls until the booking is final', async () => {
    const answers: Reply[] = [json(200, pending()), json(200, confirmed())];
    const f = mockFetch({ 'POST /book': json(202, pending()), 'GET /bookings/:id': () => answers.shift()! });
    const onBooking = vi.fn();
    const { result } = renderHook(() => useBooking({ onBooking }));
    act(() => void result.current.submit(REQ));
    expect(result.current.state.phase).toBe('submitting');
    await waitFor(() => expect(result.current.state.phase).toBe('confirmed'));
    expect(f.of('GET', '/bookings/')).toHaveLength(2);
    expect(f.of('GET', '/bookings/')[0].url).toBe(`/bookings/${ID}?wait=5000`);
    expect(onBooking.mock.calls.map(([b]) => b.status)).toEqual(['pending', 'pending', 'confirmed']);
    expect(result.current.state).toMatchObject({ booking: { booking_id: ID, amount_cents: 2000 } });
  });

  it('shows pending while the long-poll waits', async () => {
    const held = deferred<Reply>();
    mockFetch({ 'POST /book': json(202, pending()), 'GET /bookings/:id': () => held.promise });
    const { result } = renderHook(() => useBooking());
    act(() => void result.current.submit(REQ));
    await waitFor(() => expect(result.current.state.phase).toBe('pending'));
    held.resolve(json(200, confirmed({ status: 'rejected', reason: 'sold_out', message: 'Not enough tickets available' })));
    await waitFor(() => expect(result.current.state.phase).toBe('rejected'));
  });

  it('a double submit sends one request', async () => {
    const held = deferred<Reply>();
    const f = mockFetch({ 'POST /book': () => held.promise, 'GET /bookings/:id': json(200, confirmed()) });
    const { result } = renderHook(() => useBooking());
    let first = false;
    let second = true;
    act(() => {
      first = result.current.submit(REQ);
      second = result.current.submit(REQ);
    });
    expect([first, second]).toEqual([true, false]);
    held.resolve(json(202, pending()));
    await waitFor(() => expect(result.current.state.phase).toBe('confirmed'));
    expect(f.of('POST', '/book')).toHaveLength(1);
  });

  it('retries a network error with the same Idempotency-Key', async () => {
    const answers: Reply[] = [networkError(), json(200, confirmed())];
    const f = mockFetch({ 'POST /book': () => answers.shift()! });
    const { result } = renderHook(() => useBooking());
    act(() => void result.current.submit(REQ));
    await waitFor(() => expect(result.current.state.phase).toBe('error'));
    expect(result.current.state).toMatchObject({ error: { kind: 'network', retryable: true } });
    act(() => void result.current.retry());
    await waitFor(() => expect(result.current.state.phase).toBe('confirmed'));
    const [a, b] = f.of('POST', '/book');
    expect(a.headers['idempotency-key']).toBeTruthy();
    expect(b.headers['idempotency-key']).toBe(a.headers['idempotency-key']);
    expect(b.body).toEqual(a.body);
  });

  it('Book again with the same order after a 503 also reuses the key; a changed order does not', async () => {
    const answers: Reply[] = [
      json(503, { error: 'unavailable' }, { 'Retry-After': '1' }),
      json(503, { error: 'unavailable' }, { 'Retry-After': '1' }),
      json(200, confirmed()),
    ];
    const f = mockFetch({ 'POST /book': () => answers.shift()! });
    const { result } = renderHook(() => useBooking());
    act(() => void result.current.submit(REQ));
    await waitFor(() => expect(result.current.state.phase).toBe('error'));
    act(() => void result.current.submit({ ...REQ }));
    await waitFor(() => expect(result.current.state.phase).toBe('error'));
    act(() => void result.current.submit({ ...REQ, quantity: 1 }));
    await waitFor(() => expect(result.current.state.phase).toBe('confirmed'));
    const keys = f.of('POST', '/book').map((c) => c.headers['idempotency-key']);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it('a 4xx is not retried: it keeps the server’s message and field, and the next attempt gets a new key', async () => {
    const answers: Reply[] = [
      json(400, { error: 'customer must be 1 to 128 characters', field: 'customer' }),
      json(202, pending()),
    ];
    const f = mockFetch({ 'POST /book': () => answers.shift()!, 'GET /bookings/:id': json(200, confirmed()) });
    const { result } = renderHook(() => useBooking());
    act(() => void result.current.submit(REQ));
    await waitFor(() => expect(result.current.state.phase).toBe('error'));
    expect(result.current.state).toMatchObject({
      error: { kind: 'client', field: 'customer', message: 'customer must be 1 to 128 characters', retryable: false },
    });
    let retried = true;
    act(() => void (retried = result.current.retry()));
    expect(retried).toBe(false);
    act(() => void result.current.submit(REQ));
    await waitFor(() => expect(result.current.state.phase).toBe('confirmed'));
    const keys = f.of('POST', '/book').map((c) => c.headers['idempotency-key']);
    expect(keys[1]).not.toBe(keys[0]);
  });

  it('a network error while pending keeps it pending (reconnecting) until the answer comes', async () => {
    const answers: Reply[] = [networkError(), json(200, confirmed())];
    const held = deferred<void>();
    mockFetch({
      'POST /book': json(202, pending()),
      'GET /bookings/:id': async () => {
        const a = answers.shift()!;
        if (!(a instanceof Error)) await held.promise;
        return a;
      },
    });
    const { result } = renderHook(() => useBooking());
    act(() => void result.current.submit(REQ));
    await waitFor(() => expect(result.current.state).toMatchObject({ phase: 'pending', reconnecting: true }));
    held.resolve();
    await waitFor(() => expect(result.current.state.phase).toBe('confirmed'));
  });

  it('reset stops following and allows a new booking', async () => {
    const f = mockFetch({ 'POST /book': json(202, pending()), 'GET /bookings/:id': () => new Promise<Reply>(() => {}) });
    const { result } = renderHook(() => useBooking());
    act(() => void result.current.submit(REQ));
    await waitFor(() => expect(result.current.state.phase).toBe('pending'));
    act(() => result.current.reset());
    expect(result.current.state.phase).toBe('idle');
    let ok = false;
    act(() => void (ok = result.current.submit(REQ)));
    expect(ok).toBe(true);
    expect(f.of('POST', '/book')).toHaveLength(2);
  });
});
