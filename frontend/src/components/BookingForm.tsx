import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import type { BookingRequest, Tier } from '../api';
import { clampQuantity, formatMoney, maxQuantity, MAX_PER_ORDER, ticketsLabel } from '../format';
import { TierCard, TierCardSkeleton } from './TierCard';

export const SKELETON_CARDS = 3;
export const CUSTOMER_MAX = 128;

export interface BookingFormProps {
  tiers: Tier[] | null;
  selected: string | null;
  onSelect: (tier: string) => void;
  /** An attempt is under way: Book does nothing (a double click books once). */
  busy: boolean;
  onSubmit: (request: BookingRequest) => void;
  /** The input the server's last 4xx named, and the id of the element that says why. */
  invalidField?: string;
  errorId?: string;
  /** Rendered under the Book button: the booking status. */
  status?: ReactNode;
  /** Shown above the tier cards: live availability state. */
  liveBadge?: ReactNode;
  loadFailed?: boolean;
}

/** The booking form: tier cards (a radio group), quantity, optional name, total and Book. */
export function BookingForm(props: BookingFormProps) {
  const { tiers, selected, onSelect, busy, onSubmit, invalidField, errorId, status, liveBadge, loadFailed } = props;
  const uid = useId();
  const [qtyText, setQtyText] = useState('1');
  const [customer, setCustomer] = useState('');

  const tier = tiers?.find((t) => t.tier === selected);
  const soldOut = tier !== undefined && tier.available <= 0;
  const max = tier ? maxQuantity(tier.available) : MAX_PER_ORDER;
  const quantity = clampQuantity(qtyText, max);
  const canBook = tier !== undefined && !soldOut && !busy;

  // Fewer seats left than asked for: lower the quantity to what can still be booked.
  useEffect(() => {
    if (max >= 1 && Number.parseInt(qtyText, 10) > max) setQtyText(String(max));
  }, [max, qtyText]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!canBook || !tier) return;
    setQtyText(String(quantity));
    const name = customer.trim();
    onSubmit({ tier: tier.tier, quantity, ...(name ? { customer: name } : {}) });
  };

  const step = (delta: number) => setQtyText(String(clampQuantity(quantity + delta, max)));
  const described = (field: string, hint?: string) =>
    [hint, invalidField === field ? errorId : undefined].filter(Boolean).join(' ') || undefined;

  const limitHint = soldOut
    ? 'This tier is sold out.'
    : max < MAX_PER_ORDER
      ? `Only ${ticketsLabel(max)} left in this tier.`
      : `Up to ${MAX_PER_ORDER} per order.`;

  return (
    <form className="booking" onSubmit={submit} noValidate aria-labelledby={`${uid}-title`}>
      <fieldset
        className="tiers"
        aria-invalid={invalidField === 'tier' || undefined}
        aria-describedby={described('tier')}
        aria-busy={tiers === null}
      >
        <legend className="section-title" id={`${uid}-title`}>
          Choose your tickets
        </legend>
        {liveBadge}
        <div className="tier-list">
          {tiers === null
            ? Array.from({ length: SKELETON_CARDS }, (_, i) => <TierCardSkeleton key={i} />)
            : tiers.map((t) => (
                <TierCard key={t.tier} tier={t} group={`${uid}-tier`} selected={t.tier === selected} onSelect={onSelect} />
              ))}
        </div>
        {loadFailed && (
          <p className="load-failed" role="alert">
            We can’t reach the box office right now. Retrying…
          </p>
        )}
      </fieldset>

      <div className="panel">
        <h2 className="panel-title">Your order</h2>
        <p className="panel-tier" data-testid="selected-tier">
          {tier ? (
            <>
              <span className="strong">{tier.name}</span>
              <span className="num"> · {formatMoney(tier.price_cents, tier.currency)} each</span>
            </>
          ) : (
            <span className="muted">{tiers === null ? 'Loading tiers…' : 'Pick a tier to start.'}</span>
          )}
        </p>

        <div className="field">
          <label htmlFor={`${uid}-qty`}>Quantity</label>
          <div className="stepper">
            <button
              type="button"
              className="stepper-btn"
              onClick={() => step(-1)}
              disabled={quantity <= 1 || soldOut}
              aria-label="One ticket fewer"
              aria-controls={`${uid}-qty`}
            >
              −
            </button>
            <input
              id={`${uid}-qty`}
              className="stepper-input num"
              type="number"
              inputMode="numeric"
              min={1}
              max={Math.max(1, max)}
              step={1}
              value={qtyText}
              disabled={soldOut}
              onChange={(e) => setQtyText(e.target.value)}
              onBlur={() => setQtyText(String(quantity))}
              aria-invalid={invalidField === 'quantity' || undefined}
              aria-describedby={described('quantity', `${uid}-qty-hint`)}
            />
            <button
              type="button"
              className="stepper-btn"
              onClick={() => step(+1)}
              disabled={quantity >= max || soldOut}
              aria-label="One ticket more"
              aria-controls={`${uid}-qty`}
            >
              +
            </button>
          </div>
          <p className="hint" id={`${uid}-qty-hint`}>
            {limitHint}
          </p>
        </div>

        <div className="field">
          <label htmlFor={`${uid}-name`}>
            Name on the booking <span className="optional">(optional)</span>
          </label>
          <input
            id={`${uid}-name`}
            className="text-input"
            type="text"
            autoComplete="name"
            maxLength={CUSTOMER_MAX}
            value={customer}
            onChange={(e) => setCustomer(e.target.value)}
            aria-invalid={invalidField === 'customer' || undefined}
            aria-describedby={described('customer')}
          />
        </div>

        <div className="total">
          <span>Total</span>
          <span className="num total-amount" data-testid="total">
            {tier && !soldOut ? formatMoney(tier.price_cents * quantity, tier.currency) : '—'}
          </span>
        </div>

        <button type="submit" className="btn btn-primary btn-book" aria-disabled={!canBook}>
          {busy ? (
            <>
              <span className="spinner" aria-hidden="true" /> Booking…
            </>
          ) : soldOut ? (
            'Sold out'
          ) : (
            'Book'
          )}
        </button>
        {status}
      </div>
    </form>
  );
}
