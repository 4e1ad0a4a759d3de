import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { confirmed, ID, json, mockFetch, pending } from '../test-utils';
import { KEEP, loadBookings, saveBookings, STORAGE_KEY, upsertBooking, useMyBookings, type SavedBooking } from './useMyBookings';

const NOW = () => '2026-11-22T17:00:00.000Z';

describe('upsertBooking', () => {
  it('adds a new booking first, filling tier and quantity from the request', () => {
    const old: SavedBooking = { booking_id: 'old', tier: 'VIP', quantity: 1, status: 'confirmed', created_at: NOW() };
    const list = upsertBooking([old], { booking_id: ID, status: 'pending' }, { tier: 'GA', quantity: 2, customer: 'Ada' }, NOW);
    expect(list.map((b) => b.booking_id)).toEqual([ID, 'old']);
    expect(list[0]).toMatchObject({ tier: 'GA', quantity: 2, customer: 'Ada', status: 'pending', created_at: NOW() });
  });

  it('updates in place and never goes back from final to pending', () => {
    let list = upsertBooking([], pending(), undefined, NOW);
    list = upsertBooking(list, confirmed(), undefined, NOW);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ status: 'confirmed', amount_cents: 2000, decided_at: confirmed().decided_at });
    expect(upsertBooking(list, pending(), undefined, NOW)).toBe(list);
  });

  it('returns the same list when nothing changed (no re-render)', () => {
    const list = upsertBooking([], confirmed(), undefined, NOW);
    expect(upsertBooking(list, confirmed(), undefined, NOW)).toBe(list);
  });

  it('keeps the newest KEEP bookings', () => {
    let list: SavedBooking[] = [];
    for (let i = 0; i < KEEP + 5; i++) list = upsertBooking(list, confirmed({ booking_id: `b${i}` }), undefined, NOW);
    expect(list).toHaveLength(KEEP);
    expect(list[0].booking_id).toBe(`b${KEEP + 4}`);
  });
});

describe('storage', () => {
  it('round-trips and ignores garbage', () => {
    const list = upsertBooking([], confirmed(), undefined, NOW);
    saveBookings(list);
    expect(loadBookings()).toEqual(list);
    localStorage.setItem(STORAGE_KEY, '{not json');
    expect(loadBookings()).toEqual([]);
    localStorage.setItem(STORAGE_KEY, JSON.stringify([{ booking_id: 1 }, ...list, 'x']));
    expect(loadBookings()).toEqual(list);
  });
});

describe('useMyBookings', () => {
  it('persists what it records', () => {
    mockFetch({});
    const { result } = renderHook(() => useMyBookings());
    act(() => result.current.record(confirmed(), { tier: 'GA', quantity: 2 }));
    expect(result.current.bookings).toHaveLength(1);
    expect(JSON.parse(localStorage.getItem(STORAGE_KEY)!)[0]).toMatchObject({ booking_id: ID, status: 'confirmed' });
  });

  it('after a reload, follows the bookings that were still pending', async () => {
    saveBookings(upsertBooking([], pending(), undefined, NOW));
    const f = mockFetch({ 'GET /bookings/:id': json(200, confirmed()) });
    const { result } = renderHook(() => useMyBookings());
    expect(result.current.bookings[0].status).toBe('pending');
    await waitFor(() => expect(result.current.bookings[0].status).toBe('confirmed'));
    expect(f.calls[0].url).toBe(`/bookings/${ID}?wait=5000`);
    expect(loadBookings()[0].status).toBe('confirmed');
  });

  it('does not follow the booking the form is already following', () => {
    saveBookings(upsertBooking([], pending(), undefined, NOW));
    const f = mockFetch({ 'GET /bookings/:id': json(200, confirmed()) });
    renderHook(() => useMyBookings(ID));
    expect(f.calls).toHaveLength(0);
  });

  it('marks a booking the server does not know as lost and stops asking', async () => {
    saveBookings(upsertBooking([], pending(), undefined, NOW));
    const f = mockFetch({ 'GET /bookings/:id': json(404, { error: 'no such booking' }) });
    const { result } = renderHook(() => useMyBookings());
    await waitFor(() => expect(result.current.bookings[0].lost).toBe(true));
    expect(f.calls).toHaveLength(1);
  });

  it('picks up bookings another tab made', () => {
    mockFetch({});
    const { result } = renderHook(() => useMyBookings());
    saveBookings(upsertBooking([], confirmed(), undefined, NOW));
    act(() => {
      window.dispatchEvent(new StorageEvent('storage', { key: STORAGE_KEY }));
    });
    expect(result.current.bookings).toHaveLength(1);
  });
});
