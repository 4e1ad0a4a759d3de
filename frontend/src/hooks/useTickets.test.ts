import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, networkError, TIERS, type Reply } from '../test-utils';
import { POLL_MS, useTickets } from './useTickets';

let hidden = false;

beforeEach(() => {
  vi.useFakeTimers();
  hidden = false;
  vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => (hidden ? 'hidden' : 'visible'));
});

afterEach(() => {
  vi.useRealTimers();
});

function setHidden(h: boolean) {
  hidden = h;
  act(() => void document.dispatchEvent(new Event('visibilitychange')));
}

const tick = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

describe('useTickets', () => {
  it('loads at once, then refreshes every POLL_MS (at least every 2 s)', async () => {
    expect(POLL_MS).toBeLessThanOrEqual(2000);
    const f = mockFetch({ 'GET /tickets': json(200, TIERS) });
    const { result } = renderHook(() => useTickets());
    expect(result.current.liveness).toBe('loading');
    await tick(0);
    expect(result.current.tiers).toEqual(TIERS);
    expect(result.current.liveness).toBe('live');
    await tick(POLL_MS);
    await tick(POLL_MS);
    expect(f.calls).toHaveLength(3);
  });

  it('keeps the same tiers object when nothing changed, so nothing re-renders', async () => {
    mockFetch({ 'GET /tickets': () => json(200, structuredClone(TIERS)) });
    const { result } = renderHook(() => useTickets());
    await tick(0);
    const first = result.current.tiers;
    await tick(POLL_MS);
    expect(result.current.tiers).toBe(first);
  });

  it('shows new availability', async () => {
    const answers = [TIERS, TIERS.map((t) => (t.tier === 'GA' ? { ...t, available: 998 } : t))];
    mockFetch({ 'GET /tickets': () => json(200, answers.length > 1 ? answers.shift() : answers[0]) });
    const { result } = renderHook(() => useTickets());
    await tick(0);
    await tick(POLL_MS);
    expect(result.current.tiers?.find((t) => t.tier === 'GA')?.available).toBe(998);
  });

  it('pauses while the tab is hidden and refreshes as soon as it is visible again', async () => {
    const f = mockFetch({ 'GET /tickets': json(200, TIERS) });
    const { result } = renderHook(() => useTickets());
    await tick(0);
    setHidden(true);
    expect(result.current.liveness).toBe('paused');
    const before = f.calls.length;
    await tick(POLL_MS * 10);
    expect(f.calls).toHaveLength(before);
    setHidden(false);
    await tick(0);
    expect(f.calls).toHaveLength(before + 1);
    expect(result.current.liveness).toBe('live');
  });

  it('keeps the last figures through an outage and says it is reconnecting', async () => {
    const answers: Reply[] = [json(200, TIERS), networkError(), json(200, TIERS)];
    mockFetch({ 'GET /tickets': () => answers.shift() ?? json(200, TIERS) });
    const { result } = renderHook(() => useTickets());
    await tick(0);
    await tick(POLL_MS);
    expect(result.current).toMatchObject({ tiers: TIERS, liveness: 'reconnecting', failed: false });
    await tick(POLL_MS);
    expect(result.current.liveness).toBe('live');
  });

  it('reports a failure before the first answer', async () => {
    mockFetch({ 'GET /tickets': networkError() });
    const { result } = renderHook(() => useTickets());
    await tick(0);
    expect(result.current).toMatchObject({ tiers: null, failed: true, liveness: 'reconnecting' });
  });

  it('stops polling when unmounted', async () => {
    const f = mockFetch({ 'GET /tickets': json(200, TIERS) });
    const { unmount } = renderHook(() => useTickets());
    await tick(0);
    unmount();
    await tick(POLL_MS * 5);
    expect(f.calls).toHaveLength(1);
  });
});
