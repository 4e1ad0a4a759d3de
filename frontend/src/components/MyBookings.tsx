import type { Tier } from '../api';
import { formatMoney, formatWhen, ticketsLabel } from '../format';
import type { SavedBooking } from '../hooks/useMyBookings';

export interface MyBookingsProps {
  bookings: SavedBooking[];
  tiers: Tier[] | null;
}

const LABEL = { pending: 'Pending', confirmed: 'Confirmed', rejected: 'Rejected' } as const;

/** The bookings made from this browser, newest first, with their live status. */
export function MyBookings({ bookings, tiers }: MyBookingsProps) {
  const tierOf = (code: string) => tiers?.find((t) => t.tier === code);
  return (
    <section className="my-bookings" aria-labelledby="my-bookings-title">
      <div className="section-head">
        <h2 className="section-title" id="my-bookings-title">
          My bookings
        </h2>
        <p className="section-note">Kept in this browser</p>
      </div>
      {bookings.length === 0 ? (
        <p className="empty">Bookings you make in this browser show up here, with their live status.</p>
      ) : (
        <ul className="booking-list" data-testid="my-bookings">
          {bookings.map((b) => {
            const tier = tierOf(b.tier);
            const amount =
              b.status === 'rejected'
                ? ''
                : b.amount_cents !== undefined
                ? formatMoney(b.amount_cents, b.currency ?? 'USD')
                : tier
                  ? formatMoney(tier.price_cents * b.quantity, tier.currency)
                  : '';
            const state = b.lost ? 'lost' : b.status;
            return (
              <li key={b.booking_id} className="booking-item" data-status={state} data-booking-id={b.booking_id}>
                <div className="booking-main">
                  <p className="booking-what">
                    <span className="strong">{tier?.name ?? b.tier}</span>
                    <span className="num">
                      {' '}
                      · {ticketsLabel(b.quantity)}
                      {amount && ` · ${amount}`}
                    </span>
                  </p>
                  <p className="booking-meta">
                    {[b.customer, formatWhen(b.created_at)].filter(Boolean).join(' · ')}
                  </p>
                  <p className="booking-id">
                    <span className="sr-only">Booking ID </span>
                    <code>{b.booking_id}</code>
                  </p>
                  {b.status === 'rejected' && b.message && <p className="booking-reason">{b.message}</p>}
                </div>
                <span className={`pill pill--${state}`} data-testid="booking-state">
                  {state === 'pending' && <span className="spinner spinner--small" aria-hidden="true" />}
                  {state === 'lost' ? 'Unknown' : LABEL[b.status]}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
