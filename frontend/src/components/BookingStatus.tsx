import { useEffect, useState } from 'react';
import type { Booking, Tier } from '../api';
import { formatMoney, ticketsLabel } from '../format';
import type { BookingMachine } from '../hooks/useBooking';

export const SLOW_PENDING_MS = 8000;

export interface BookingStatusProps {
  state: BookingMachine;
  tiers: Tier[] | null;
  onRetry: () => void;
  onReset: () => void;
  /** id of the message element, so a field the server refused can point at it. */
  messageId: string;
}

function tierName(tiers: Tier[] | null, code: string | undefined): string {
  return tiers?.find((t) => t.tier === code)?.name ?? code ?? '';
}

function amountOf(b: Booking, tiers: Tier[] | null): string {
  if (b.amount_cents !== undefined) return formatMoney(b.amount_cents, b.currency ?? 'USD');
  const t = tiers?.find((x) => x.tier === b.tier);
  return t && b.quantity ? formatMoney(t.price_cents * b.quantity, t.currency) : '';
}

/**
 * Where the booking stands. The message sits in a polite live region, so screen readers announce
 * "pending", the confirmation or the rejection as it happens; the buttons stay outside it.
 */
export function BookingStatus({ state, tiers, onRetry, onReset, messageId }: BookingStatusProps) {
  const slow = useSlow(state.phase === 'pending' ? state.booking.booking_id : null);

  let tone = 'idle';
  let body: JSX.Element | null = null;
  let actions: JSX.Element | null = null;

  switch (state.phase) {
    case 'idle':
      break;
    case 'submitting':
      tone = 'busy';
      body = (
        <p className="status-title">
          <span className="spinner" aria-hidden="true" /> Sending your booking…
        </p>
      );
      break;
    case 'pending':
      tone = 'busy';
      body = (
        <>
          <p className="status-title">
            <span className="spinner" aria-hidden="true" /> Booking received — waiting for confirmation…
          </p>
          <p className="status-detail">
            {state.reconnecting
              ? 'Connection lost. Your booking is safe; we keep checking its status.'
              : 'Your place in line is held. This usually takes a moment.'}
          </p>
          <p className="status-id">
            Booking <code data-testid="booking-id">{state.booking.booking_id}</code>
          </p>
        </>
      );
      if (slow) {
        actions = (
          <button type="button" className="btn btn-ghost" onClick={onReset}>
            Keep tracking it in My bookings
          </button>
        );
      }
      break;
    case 'confirmed': {
      const b = state.booking;
      tone = 'ok';
      body = (
        <>
          <p className="status-title">
            <span className="status-icon" aria-hidden="true">
              ✓
            </span>{' '}
            Booking confirmed
          </p>
          <dl className="receipt">
            <div>
              <dt>Booking ID</dt>
              <dd>
                <code data-testid="booking-id">{b.booking_id}</code>
              </dd>
            </div>
            <div>
              <dt>Tier</dt>
              <dd data-testid="booking-tier">{tierName(tiers, b.tier)}</dd>
            </div>
            <div>
              <dt>Quantity</dt>
              <dd className="num" data-testid="booking-quantity">
                {b.quantity !== undefined ? ticketsLabel(b.quantity) : ''}
              </dd>
            </div>
            <div>
              <dt>Total</dt>
              <dd className="num strong" data-testid="booking-total">
                {amountOf(b, tiers)}
              </dd>
            </div>
            {b.customer && (
              <div>
                <dt>Name</dt>
                <dd>{b.customer}</dd>
              </div>
            )}
          </dl>
        </>
      );
      actions = (
        <button type="button" className="btn btn-ghost" onClick={onReset}>
          Book more tickets
        </button>
      );
      break;
    }
    case 'rejected':
      tone = 'bad';
      body = (
        <>
          <p className="status-title">
            <span className="status-icon" aria-hidden="true">
              ✕
            </span>{' '}
            {state.booking.message || 'Not enough tickets available'}
          </p>
          <p className="status-detail">
            Nothing was booked. Seats went to people who booked just before you — try fewer tickets or another tier.
          </p>
        </>
      );
      actions = (
        <button type="button" className="btn btn-ghost" onClick={onReset}>
          Dismiss
        </button>
      );
      break;
    case 'error':
      tone = state.error.retryable ? 'warn' : 'bad';
      body = (
        <>
          <p className="status-title">
            <span className="status-icon" aria-hidden="true">
              !
            </span>{' '}
            {state.error.retryable ? 'Not booked yet' : 'Please check your order'}
          </p>
          <p className="status-detail" data-testid="error-message">
            {state.error.message}
          </p>
        </>
      );
      if (state.error.retryable) {
        actions = (
          <button type="button" className="btn btn-secondary" onClick={onRetry}>
            Try again
          </button>
        );
      }
      break;
  }

  return (
    <div className={`status status--${tone}`} data-phase={state.phase} data-testid="booking-status">
      <div role="status" aria-live="polite" id={messageId} className="status-message">
        {body}
      </div>
      {actions && <div className="status-actions">{actions}</div>}
    </div>
  );
}

/** true once the given pending booking has waited SLOW_PENDING_MS. */
function useSlow(pendingId: string | null): boolean {
  const [slowId, setSlowId] = useState<string | null>(null);
  useEffect(() => {
    if (!pendingId) return;
    const t = setTimeout(() => setSlowId(pendingId), SLOW_PENDING_MS);
    return () => clearTimeout(t);
  }, [pendingId]);
  return pendingId !== null && slowId === pendingId;
}
