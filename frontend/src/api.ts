// The HTTP client for bk-ingress (docs/api.md, openapi.yaml). Same origin by default: the ingress serves
// this app, and `npm run dev` proxies the API paths, so no base URL needs configuring.

export interface Tier {
  tier: string;
  name: string;
  price_cents: number;
  currency: string;
  capacity: number;
  available: number;
}

export type BookingState = 'pending' | 'confirmed' | 'rejected';

/** A booking as the API reports it. A pending one may carry only the id and status. */
export interface Booking {
  booking_id: string;
  status: BookingState;
  tier?: string;
  quantity?: number;
  reason?: string;
  message?: string;
  amount_cents?: number;
  currency?: string;
  customer?: string;
  created_at?: string;
  decided_at?: string;
}

export interface BookingRequest {
  tier: string;
  quantity: number;
  customer?: string;
}

/**
 * What went wrong with a request:
 * - network: no answer (offline, connection reset, timed out) — the request may or may not have
 *   reached the server, so a retry must reuse the Idempotency-Key;
 * - unavailable: 503 (or 429, rate limited), nothing was promised (Retry-After says when to try again);
 * - server: another 5xx;
 * - client: a 4xx — the request itself is wrong; retrying it unchanged will not help.
 */
export type ApiErrorKind = 'network' | 'unavailable' | 'server' | 'client';

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status?: number;
  readonly field?: string;
  readonly retryAfterS?: number;

  constructor(
    kind: ApiErrorKind,
    message: string,
    opts: { status?: number; field?: string; retryAfterS?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = opts.status;
    this.field = opts.field;
    this.retryAfterS = opts.retryAfterS;
  }

  get retryable(): boolean {
    return this.kind !== 'client';
  }
}

export const NETWORK_MESSAGE = 'We couldn’t reach the box office. Check your connection and try again.';
export const BUSY_MESSAGE = 'Booking is very busy right now. Nothing was booked — please try again.';

const BASE: string = (import.meta.env.VITE_API_BASE as string | undefined) ?? '';

/** Longest time any request may take before it counts as a network error. */
const REQUEST_TIMEOUT_MS = 15_000;

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}

async function request(path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
  const { timeoutMs = REQUEST_TIMEOUT_MS, signal: outer, ...rest } = init;
  if (outer?.aborted) throw abortError();
  const ctrl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctrl.abort();
  }, timeoutMs);
  const forward = () => ctrl.abort();
  outer?.addEventListener('abort', forward);
  try {
    return await fetch(BASE + path, { ...rest, signal: ctrl.signal });
  } catch (err) {
    if (outer?.aborted) throw abortError();
    throw new ApiError('network', NETWORK_MESSAGE, { status: timedOut ? 0 : undefined });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}

async function readJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return undefined;
  }
}

function errorFrom(res: Response, body: unknown): ApiError {
  const b = (body ?? {}) as { error?: unknown; field?: unknown };
  const serverMessage = typeof b.error === 'string' && b.error !== '' ? b.error : undefined;
  const field = typeof b.field === 'string' ? b.field : undefined;
  if (res.status === 503 || res.status === 429) {
    const header = res.headers.get('Retry-After');
    const retry = header === null || header.trim() === '' ? NaN : Number(header);
    const retryAfterS = Number.isFinite(retry) && retry >= 0 ? retry : undefined;
    const message =
      res.status === 429
        ? `Too many requests from this connection. Nothing was booked — try again${retryAfterS ? ` in ${retryAfterS} s` : ''}.`
        : BUSY_MESSAGE;
    return new ApiError('unavailable', message, { status: res.status, retryAfterS });
  }
  if (res.status >= 500) {
    return new ApiError('server', 'Something went wrong on our side. Nothing was booked — please try again.', {
      status: res.status,
    });
  }
  return new ApiError('client', serverMessage ?? `The request was refused (HTTP ${res.status}).`, {
    status: res.status,
    field,
  });
}

/** Reads the JSON body of a response; non-2xx answers become an ApiError. */
async function parse<T>(res: Response): Promise<T> {
  const body = await readJson(res);
  if (!res.ok) throw errorFrom(res, body);
  if (body === undefined) {
    throw new ApiError('server', 'The server sent an answer we could not read.', { status: res.status });
  }
  return body as T;
}

export async function fetchTickets(signal?: AbortSignal): Promise<Tier[]> {
  const res = await request('/tickets', { signal, headers: { Accept: 'application/json' } });
  return parse<Tier[]>(res);
}

/**
 * POST /book. Answers the booking as far as it is known: `pending` (202) or final (200, when the
 * key was used before and its booking is decided, or when waitMs let the server wait for it).
 */
export async function createBooking(
  req: BookingRequest,
  idempotencyKey: string,
  opts: { waitMs?: number; signal?: AbortSignal } = {},
): Promise<Booking> {
  const body: BookingRequest = { tier: req.tier, quantity: req.quantity };
  if (req.customer !== undefined && req.customer !== '') body.customer = req.customer;
  const query = opts.waitMs ? `?wait=${Math.round(opts.waitMs)}` : '';
  const res = await request(`/book${query}`, {
    method: 'POST',
    signal: opts.signal,
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Idempotency-Key': idempotencyKey,
    },
    body: JSON.stringify(body),
    timeoutMs: REQUEST_TIMEOUT_MS + (opts.waitMs ?? 0),
  });
  return parse<Booking>(res);
}

/** GET /bookings/{id}, long-polling up to waitMs (0–5000) while the booking is pending. */
export async function getBooking(
  id: string,
  opts: { waitMs?: number; signal?: AbortSignal } = {},
): Promise<Booking> {
  const query = opts.waitMs ? `?wait=${Math.round(opts.waitMs)}` : '';
  const res = await request(`/bookings/${encodeURIComponent(id)}${query}`, {
    signal: opts.signal,
    headers: { Accept: 'application/json' },
    timeoutMs: REQUEST_TIMEOUT_MS + (opts.waitMs ?? 0),
  });
  return parse<Booking>(res);
}

export function isFinal(b: Pick<Booking, 'status'>): boolean {
  return b.status === 'confirmed' || b.status === 'rejected';
}

/** Resolves after ms, or rejects with an AbortError as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(abortError());
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Delay before the n-th consecutive retry (n ≥ 1): 0.5 s, 1 s, 2 s, 4 s, then 5 s; Retry-After wins if longer. */
export function backoffMs(failures: number, retryAfterS?: number): number {
  const exp = Math.min(5000, 500 * 2 ** Math.max(0, failures - 1));
  return Math.max(exp, (retryAfterS ?? 0) * 1000);
}

export interface FollowOptions {
  signal?: AbortSignal;
  /** Long-poll length per request (the server allows up to 5000 ms). */
  waitMs?: number;
  /** Every answer, pending ones included. */
  onUpdate?: (b: Booking) => void;
  /** true while the status cannot be read (network error, 503), false once it can again. */
  onTrouble?: (trouble: boolean) => void;
  /** Shortest time between two polls that answer pending (guards against a server not waiting). */
  minIntervalMs?: number;
  sleepFn?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Follows an accepted booking until it is final. A 202 is a promise that the booking will be
 * decided, so network trouble only slows this down: it retries with backoff and never gives up.
 * Rejects with an ApiError only for an answer that will never change (a 4xx such as 404), or
 * with an AbortError when the signal aborts.
 */
export async function followBooking(id: string, opts: FollowOptions = {}): Promise<Booking> {
  const { signal, waitMs = 5000, onUpdate, onTrouble, minIntervalMs = 250, sleepFn = sleep } = opts;
  let failures = 0;
  for (;;) {
    const started = Date.now();
    try {
      const b = await getBooking(id, { waitMs, signal });
      if (failures > 0) {
        failures = 0;
        onTrouble?.(false);
      }
      onUpdate?.(b);
      if (isFinal(b)) return b;
      const elapsed = Date.now() - started;
      if (elapsed < minIntervalMs) await sleepFn(minIntervalMs - elapsed, signal);
    } catch (err) {
      if (isAbort(err) || signal?.aborted) throw isAbort(err) ? err : abortError();
      if (err instanceof ApiError && !err.retryable) throw err;
      failures += 1;
      if (failures === 1) onTrouble?.(true);
      await sleepFn(backoffMs(failures, err instanceof ApiError ? err.retryAfterS : undefined), signal);
    }
  }
}

/**
 * A fresh Idempotency-Key (a UUID v4). crypto.getRandomValues works in insecure contexts too
 * (e.g. the app opened by LAN address on a phone), unlike crypto.randomUUID.
 */
export function newIdempotencyKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
