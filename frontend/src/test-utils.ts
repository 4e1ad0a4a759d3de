// A scripted fetch for unit tests: routes by "METHOD /path", records every call, and answers
// with JSON Responses (or throws, to simulate a network error).
import { vi } from 'vitest';
import type { Booking, Tier } from './api';

export interface Call {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;
export type Handler = (call: Call) => Reply | Promise<Reply>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body, headers };
}

export function networkError(): Error {
  return new TypeError('Failed to fetch');
}

export const TIERS: Tier[] = [
  { tier: 'VIP', name: 'VIP', price_cents: 10000, currency: 'USD', capacity: 100, available: 98 },
  { tier: 'FRONT_ROW', name: 'Front Row', price_cents: 5000, currency: 'USD', capacity: 200, available: 3 },
  { tier: 'GA', name: 'General Admission', price_cents: 1000, currency: 'USD', capacity: 1000, available: 1000 },
];

export const ID = 'hSNHUUO0tjiW_9SxMUOzluZdjE4P27ID';

export function confirmed(over: Partial<Booking> = {}): Booking {
  return {
    booking_id: ID,
    tier: 'GA',
    quantity: 2,
    status: 'confirmed',
    amount_cents: 2000,
    currency: 'USD',
    created_at: '2026-11-22T17:12:07.657Z',
    decided_at: '2026-11-22T17:12:07.728Z',
    ...over,
  };
}

export function pending(over: Partial<Booking> = {}): Booking {
  return { booking_id: ID, status: 'pending', tier: 'GA', quantity: 2, ...over };
}

/** Installs a fetch mock; routes map "GET /tickets" (path without query) to a handler. */
export function mockFetch(routes: Record<string, Handler | Reply>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const u = new URL(url, 'http://localhost');
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const call: Call = {
      method,
      path: u.pathname,
      url: u.pathname + u.search,
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const key = `${method} ${u.pathname.startsWith('/bookings/') ? '/bookings/:id' : u.pathname}`;
    const route = routes[key];
    if (!route) throw new Error(`unexpected request ${key}`);
    const reply = typeof route === 'function' ? await route(call) : route;
    if (init.signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
    if (reply instanceof Error) throw reply;
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...(reply.headers ?? {}) },
    });
  });
  vi.stubGlobal('fetch', fn);
  return { fn, calls, of: (method: string, path: string) => calls.filter((c) => c.method === method && c.path.startsWith(path)) };
}

/** A promise with its resolve function exposed, to hold a mocked answer back. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
