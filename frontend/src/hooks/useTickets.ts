// Live availability: GET /tickets every intervalMs while the tab is visible, paused while it is
// hidden (and refreshed at once when it comes back). The last good answer stays on screen during
// a refresh or an outage, and an unchanged answer does not re-render anything.
import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchTickets, isAbort, type Tier } from '../api';

export const POLL_MS = 1500;

export type Liveness = 'loading' | 'live' | 'reconnecting' | 'paused';

export interface TicketsState {
  tiers: Tier[] | null;
  liveness: Liveness;
  /** A failure before the first answer arrived. */
  failed: boolean;
}

export function sameTiers(a: Tier[] | null, b: Tier[]): boolean {
  return a !== null && a.length === b.length && a.every((t, i) => JSON.stringify(t) === JSON.stringify(b[i]));
}

function isHidden(): boolean {
  return typeof document !== 'undefined' && document.visibilityState === 'hidden';
}

export function useTickets(intervalMs = POLL_MS): TicketsState & { refresh: () => void } {
  const [state, setState] = useState<TicketsState>({ tiers: null, liveness: 'loading', failed: false });
  const refreshRef = useRef<() => void>(() => {});

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inflight: AbortController | null = null;
    let stopped = false;

    const schedule = () => {
      clearTimeout(timer);
      if (!stopped && !isHidden()) timer = setTimeout(poll, intervalMs);
    };

    async function poll() {
      clearTimeout(timer);
      if (stopped || isHidden()) return;
      inflight?.abort();
      const ctrl = new AbortController();
      inflight = ctrl;
      try {
        const tiers = await fetchTickets(ctrl.signal);
        if (stopped || ctrl.signal.aborted) return;
        setState((s) => {
          const same = sameTiers(s.tiers, tiers);
          if (same && s.liveness === 'live') return s;
          return { tiers: same ? s.tiers : tiers, liveness: 'live', failed: false };
        });
      } catch (err) {
        if (stopped || isAbort(err) || ctrl.signal.aborted) return;
        setState((s) => {
          const failed = s.tiers === null;
          return s.liveness === 'reconnecting' && s.failed === failed ? s : { ...s, liveness: 'reconnecting', failed };
        });
      } finally {
        if (inflight === ctrl) {
          inflight = null;
          schedule();
        }
      }
    }

    const onVisibility = () => {
      if (isHidden()) {
        clearTimeout(timer);
        inflight?.abort();
        inflight = null;
        setState((s) => (s.liveness === 'paused' ? s : { ...s, liveness: 'paused' }));
      } else {
        void poll();
      }
    };

    refreshRef.current = () => void poll();
    document.addEventListener('visibilitychange', onVisibility);
    if (isHidden()) onVisibility();
    else void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      inflight?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
      refreshRef.current = () => {};
    };
  }, [intervalMs]);

  const refresh = useCallback(() => refreshRef.current(), []);
  return { ...state, refresh };
}
