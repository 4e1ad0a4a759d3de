// One booking attempt at a time, as a state machine:
//
//   idle ──submit──▶ submitting ──202──▶ pending ──long-poll──▶ confirmed | rejected
//                        │  └──200 (already final)────────────▶ confirmed | rejected
//                        └──network error / 503 / 5xx / 4xx──▶ error ──retry──▶ submitting
//
// Every attempt carries its own Idempotency-Key. A retry of a failed attempt (the Retry button, or
// Book again with the same tier, quantity and name) reuses the key, so a request that did reach
// the server before the connection dropped is never booked twice. A new attempt gets a new key.
import { useCallback, useEffect, useReducer, useRef } from 'react';
import {
  ApiError,
  createBooking,
  followBooking,
  isAbort,
  isFinal,
  newIdempotencyKey,
  NETWORK_MESSAGE,
  type Booking,
  type BookingRequest,
} from '../api';

export interface Attempt {
  request: BookingRequest;
  key: string;
}

export interface BookingFailure {
  kind: ApiError['kind'];
  message: string;
  field?: string;
  retryable: boolean;
}

export type BookingMachine =
  | { phase: 'idle' }
  | { phase: 'submitting'; attempt: Attempt }
  | { phase: 'pending'; attempt: Attempt; booking: Booking; reconnecting: boolean }
  | { phase: 'confirmed'; attempt: Attempt; booking: Booking }
  | { phase: 'rejected'; attempt: Attempt; booking: Booking }
  | { phase: 'error'; attempt: Attempt; error: BookingFailure };

export type BookingEvent =
  | { type: 'submit'; attempt: Attempt }
  | { type: 'accepted'; booking: Booking }
  | { type: 'update'; booking: Booking }
  | { type: 'trouble'; reconnecting: boolean }
  | { type: 'failed'; error: BookingFailure }
  | { type: 'reset' };

export const IDLE: BookingMachine = { phase: 'idle' };

export function isBusy(s: BookingMachine): s is Extract<BookingMachine, { phase: 'submitting' | 'pending' }> {
  return s.phase === 'submitting' || s.phase === 'pending';
}

/** Later answers may carry fewer fields (another ingress knows only the id): keep what we knew. */
export function mergeBooking(prev: Booking | undefined, next: Booking): Booking {
  const out: Record<string, unknown> = { ...(prev ?? {}) };
  for (const [k, v] of Object.entries(next)) {
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out as unknown as Booking;
}

function settle(attempt: Attempt, prev: Booking | undefined, b: Booking): BookingMachine {
  const booking = mergeBooking(prev, b);
  if (booking.status === 'confirmed') return { phase: 'confirmed', attempt, booking };
  if (booking.status === 'rejected') return { phase: 'rejected', attempt, booking };
  return { phase: 'pending', attempt, booking, reconnecting: false };
}

/** The pure transition function; events that make no sense in a phase are ignored. */
export function bookingReducer(state: BookingMachine, event: BookingEvent): BookingMachine {
  switch (event.type) {
    case 'submit':
      return isBusy(state) ? state : { phase: 'submitting', attempt: event.attempt };
    case 'accepted':
      if (state.phase !== 'submitting') return state;
      return settle(state.attempt, undefined, event.booking);
    case 'update':
      if (state.phase !== 'pending' || event.booking.booking_id !== state.booking.booking_id) return state;
      if (!isFinal(event.booking)) {
        return { ...state, booking: mergeBooking(state.booking, event.booking), reconnecting: false };
      }
      return settle(state.attempt, state.booking, event.booking);
    case 'trouble':
      if (state.phase !== 'pending' || state.reconnecting === event.reconnecting) return state;
      return { ...state, reconnecting: event.reconnecting };
    case 'failed':
      if (!isBusy(state)) return state;
      return { phase: 'error', attempt: state.attempt, error: event.error };
    case 'reset':
      return IDLE;
  }
}

export function sameRequest(a: BookingRequest, b: BookingRequest): boolean {
  return a.tier === b.tier && a.quantity === b.quantity && (a.customer ?? '') === (b.customer ?? '');
}

/**
 * The key for a new submit: the failed attempt's key when this is the same request again after a
 * retryable failure (it may have reached the server), else a fresh one.
 */
export function keyFor(state: BookingMachine, request: BookingRequest, fresh: () => string = newIdempotencyKey): string {
  if (state.phase === 'error' && state.error.retryable && sameRequest(state.attempt.request, request)) {
    return state.attempt.key;
  }
  return fresh();
}

export function failureOf(err: unknown): BookingFailure {
  if (err instanceof ApiError) {
    return { kind: err.kind, message: err.message, field: err.field, retryable: err.retryable };
  }
  return { kind: 'network', message: NETWORK_MESSAGE, retryable: true };
}

export interface UseBookingOptions {
  /** Every booking answer (pending or final), e.g. to keep "My bookings" up to date. */
  onBooking?: (b: Booking, request: BookingRequest) => void;
}

export interface UseBooking {
  state: BookingMachine;
  /** Starts an attempt; false when one is already under way (a double click). */
  submit: (request: BookingRequest) => boolean;
  /** Sends the failed attempt again with the same Idempotency-Key. */
  retry: () => boolean;
  /** Back to idle; a pending booking is left to "My bookings" to follow. */
  reset: () => void;
}

export function useBooking(opts: UseBookingOptions = {}): UseBooking {
  const [state, dispatch] = useReducer(bookingReducer, IDLE);
  // Refs, not state: a double click fires twice before React re-renders.
  const stateRef = useRef(state);
  stateRef.current = state;
  const busy = useRef(false);
  const ctrl = useRef<AbortController | null>(null);
  const onBooking = useRef(opts.onBooking);
  onBooking.current = opts.onBooking;

  useEffect(() => () => ctrl.current?.abort(), []);

  const run = useCallback(async (attempt: Attempt) => {
    busy.current = true;
    const c = new AbortController();
    ctrl.current = c;
    const report = (b: Booking) => onBooking.current?.(b, attempt.request);
    dispatch({ type: 'submit', attempt });
    try {
      const first = await createBooking(attempt.request, attempt.key, { signal: c.signal });
      // The 202 body names the first request's tier and quantity (a reused key keeps them).
      const booking = mergeBooking({ ...attempt.request, booking_id: first.booking_id, status: 'pending' }, first);
      report(booking);
      dispatch({ type: 'accepted', booking });
      if (!isFinal(booking)) {
        await followBooking(booking.booking_id, {
          signal: c.signal,
          onUpdate: (b) => {
            report(b);
            dispatch({ type: 'update', booking: b });
          },
          onTrouble: (reconnecting) => dispatch({ type: 'trouble', reconnecting }),
        });
      }
    } catch (err) {
      if (isAbort(err)) return;
      dispatch({ type: 'failed', error: failureOf(err) });
    } finally {
      if (ctrl.current === c) {
        ctrl.current = null;
        busy.current = false;
      }
    }
  }, []);

  const submit = useCallback(
    (request: BookingRequest) => {
      if (busy.current) return false;
      void run({ request, key: keyFor(stateRef.current, request) });
      return true;
    },
    [run],
  );

  const retry = useCallback(() => {
    const s = stateRef.current;
    if (busy.current || s.phase !== 'error' || !s.error.retryable) return false;
    void run(s.attempt);
    return true;
  }, [run]);

  const reset = useCallback(() => {
    ctrl.current?.abort();
    ctrl.current = null;
    busy.current = false;
    dispatch({ type: 'reset' });
  }, []);

  return { state, submit, retry, reset };
}
