// "My bookings": the bookings made from this browser, kept in localStorage so they survive a
// reload, with live status: every booking still pending is followed (long-poll) until final.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, followBooking, isAbort, type Booking, type BookingRequest, type BookingState } from '../api';

export const STORAGE_KEY = 'bk.myBookings.v1';
export const KEEP = 50;

export interface SavedBooking {
  booking_id: string;
  tier: string;
  quantity: number;
  status: BookingState;
  customer?: string;
  message?: string;
  amount_cents?: number;
  currency?: string;
  created_at: string;
  decided_at?: string;
  /** The server no longer knows this id (e.g. its data was reset): not followed any more. */
  lost?: boolean;
}

const STATES: readonly string[] = ['pending', 'confirmed', 'rejected'];

function isSaved(x: unknown): x is SavedBooking {
  const b = x as SavedBooking;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.booking_id === 'string' &&
    typeof b.tier === 'string' &&
    typeof b.quantity === 'number' &&
    STATES.includes(b.status) &&
    typeof b.created_at === 'string'
  );
}

/** What localStorage holds; anything unreadable counts as nothing (never throws). */
export function loadBookings(storage: Storage | undefined = safeStorage()): SavedBooking[] {
  try {
    const raw = storage?.getItem(STORAGE_KEY);
    if (!raw) return [];
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isSaved).slice(0, KEEP) : [];
  } catch {
    return [];
  }
}

export function saveBookings(list: SavedBooking[], storage: Storage | undefined = safeStorage()): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(list.slice(0, KEEP)));
  } catch {
    // Full or disabled storage: the list still works for this page view.
  }
}

function safeStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

/**
 * Adds or updates a booking, newest first. A final status is never replaced by pending (answers
 * can arrive out of order), and fields a later answer leaves out are kept.
 */
export function upsertBooking(
  list: SavedBooking[],
  b: Booking,
  request?: BookingRequest,
  now: () => string = () => new Date().toISOString(),
): SavedBooking[] {
  const i = list.findIndex((x) => x.booking_id === b.booking_id);
  const prev = i >= 0 ? list[i] : undefined;
  if (prev && prev.status !== 'pending' && b.status === 'pending') return list;
  const tier = b.tier ?? prev?.tier ?? request?.tier;
  const quantity = b.quantity ?? prev?.quantity ?? request?.quantity;
  if (tier === undefined || quantity === undefined) return list;
  const next: SavedBooking = {
    booking_id: b.booking_id,
    tier,
    quantity,
    status: b.status,
    customer: b.customer ?? prev?.customer ?? (request?.customer || undefined),
    message: b.message ?? prev?.message,
    amount_cents: b.amount_cents ?? prev?.amount_cents,
    currency: b.currency ?? prev?.currency,
    created_at: b.created_at ?? prev?.created_at ?? now(),
    decided_at: b.decided_at ?? prev?.decided_at,
  };
  if (prev && JSON.stringify(prev) === JSON.stringify(next)) return list;
  if (i >= 0) {
    const copy = list.slice();
    copy[i] = next;
    return copy;
  }
  return [next, ...list].slice(0, KEEP);
}

export function markLost(list: SavedBooking[], id: string): SavedBooking[] {
  return list.map((x) => (x.booking_id === id ? { ...x, lost: true } : x));
}

export interface UseMyBookings {
  bookings: SavedBooking[];
  record: (b: Booking, request?: BookingRequest) => void;
}

/** @param followedElsewhere a booking id another part of the app already follows. */
export function useMyBookings(followedElsewhere?: string): UseMyBookings {
  const [bookings, setBookings] = useState<SavedBooking[]>(() => loadBookings());

  useEffect(() => saveBookings(bookings), [bookings]);

  // Another tab booked: show it here too.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === STORAGE_KEY) setBookings(loadBookings());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  const record = useCallback((b: Booking, request?: BookingRequest) => {
    setBookings((list) => upsertBooking(list, b, request));
  }, []);

  const toFollow = useMemo(
    () =>
      bookings
        .filter((b) => b.status === 'pending' && !b.lost && b.booking_id !== followedElsewhere)
        .map((b) => b.booking_id)
        .sort()
        .join(' '),
    [bookings, followedElsewhere],
  );

  useEffect(() => {
    if (!toFollow) return;
    const ctrl = new AbortController();
    for (const id of toFollow.split(' ')) {
      followBooking(id, { signal: ctrl.signal, onUpdate: (b) => record(b) }).catch((err: unknown) => {
        if (isAbort(err)) return;
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
          setBookings((list) => markLost(list, id));
        }
      });
    }
    return () => ctrl.abort();
  }, [toFollow, record]);

  return { bookings, record };
}
