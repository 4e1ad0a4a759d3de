import { useCallback, useEffect, useState } from 'react';
import type { Booking, BookingRequest } from './api';
import { BookingForm } from './components/BookingForm';
import { BookingStatus } from './components/BookingStatus';
import { MyBookings } from './components/MyBookings';
import { isBusy, useBooking } from './hooks/useBooking';
import { useMyBookings } from './hooks/useMyBookings';
import { useTickets, type Liveness } from './hooks/useTickets';

const LIVE_TEXT: Record<Liveness, [string, string]> = {
  loading: ['Connecting…', ''],
  live: ['Live', ' availability'],
  reconnecting: ['Reconnecting…', ''],
  paused: ['Paused', ''],
};

const STATUS_ID = 'booking-status-message';

export function App() {
  const tickets = useTickets();
  const [selected, setSelected] = useState<string | null>(null);
  const [activeId, setActiveId] = useState<string | undefined>();
  const mine = useMyBookings(activeId);
  const { refresh } = tickets;
  const { record } = mine;

  const onBooking = useCallback(
    (b: Booking, request: BookingRequest) => {
      record(b, request);
      setActiveId(b.status === 'pending' ? b.booking_id : undefined);
      // A decided booking moved the seat counts: show them now rather than at the next tick.
      if (b.status !== 'pending') refresh();
    },
    [record, refresh],
  );
  const booking = useBooking({ onBooking });
  const { state } = booking;

  // Start on the first tier with seats; move off a selected tier only if the user has not booked yet.
  useEffect(() => {
    if (selected === null && tickets.tiers) {
      const first = tickets.tiers.find((t) => t.available > 0) ?? tickets.tiers[0];
      if (first) setSelected(first.tier);
    }
  }, [selected, tickets.tiers]);

  const reset = useCallback(() => {
    booking.reset();
    setActiveId(undefined);
  }, [booking]);

  const invalidField = state.phase === 'error' && !state.error.retryable ? state.error.field : undefined;

  return (
    <div className="app">
      <header className="hero">
        <div className="hero-inner">
          <p className="brand">
            <span className="brand-mark" aria-hidden="true" />
            Box Office
          </p>
          <p className="hero-eyebrow">On sale now</p>
          <h1 className="hero-title">Live in Concert</h1>
          <p className="hero-sub">
            Three tiers, first come, first served. Seats update live — book in seconds and watch your booking confirm.
          </p>
        </div>
      </header>

      <main className="main">
        <BookingForm
          tiers={tickets.tiers}
          selected={selected}
          onSelect={setSelected}
          busy={isBusy(state)}
          onSubmit={booking.submit}
          invalidField={invalidField}
          errorId={STATUS_ID}
          loadFailed={tickets.failed}
          liveBadge={
            <p className={`live live--${tickets.liveness}`} data-testid="liveness">
              <span className="live-dot" aria-hidden="true" />
              <span>
                {LIVE_TEXT[tickets.liveness][0]}
                <span className="live-long">{LIVE_TEXT[tickets.liveness][1]}</span>
              </span>
            </p>
          }
          status={
            <BookingStatus
              state={state}
              tiers={tickets.tiers}
              onRetry={booking.retry}
              onReset={reset}
              messageId={STATUS_ID}
            />
          }
        />
        <MyBookings bookings={mine.bookings} tiers={tickets.tiers} />
      </main>

      <footer className="footer">
        <p>Prices in US dollars. Up to 10 tickets per order. Your booking id is your proof of purchase — keep it.</p>
      </footer>
    </div>
  );
}
