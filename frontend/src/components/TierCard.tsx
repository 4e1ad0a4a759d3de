import { memo } from 'react';
import type { Tier } from '../api';
import { formatCount, formatMoney, fractionLeft, isLow } from '../format';

export interface TierCardProps {
  tier: Tier;
  selected: boolean;
  onSelect: (tier: string) => void;
  /** The radio group's name: the cards are the form's tier choice. */
  group: string;
}

/** One tier as a selectable card: name, price, seats left with a bar, sold-out state. */
export const TierCard = memo(function TierCard({ tier, selected, onSelect, group }: TierCardProps) {
  const soldOut = tier.available <= 0;
  const low = isLow(tier.available, tier.capacity);
  const id = `tier-${tier.tier}`;
  const level = soldOut ? 'out' : low ? 'low' : 'ok';
  return (
    <label
      className={`tier-card${selected ? ' is-selected' : ''}${soldOut ? ' is-sold-out' : ''}`}
      data-testid={id}
      data-level={level}
    >
      <input
        type="radio"
        className="tier-radio"
        name={group}
        value={tier.tier}
        checked={selected}
        disabled={soldOut}
        onChange={() => onSelect(tier.tier)}
        aria-labelledby={`${id}-name`}
        aria-describedby={`${id}-price ${id}-seats ${id}-badge`}
      />
      <span className="tier-check" aria-hidden="true" />
      <span className="tier-name" id={`${id}-name`}>
        {tier.name}
      </span>
      <span className="tier-price num" id={`${id}-price`}>
        {formatMoney(tier.price_cents, tier.currency)}
        <span className="sr-only"> per ticket</span>
      </span>
      <span className="tier-seats" id={`${id}-seats`} data-testid="seats">
        <span className="num strong">{formatCount(tier.available)}</span> of{' '}
        <span className="num">{formatCount(tier.capacity)}</span> left
      </span>
      <span className={`tier-badge tier-badge--${level}`} data-testid="badge" id={`${id}-badge`}>
        {soldOut ? 'Sold out' : low ? 'Few left' : 'On sale'}
      </span>
      <span className="tier-bar" aria-hidden="true">
        <span className="tier-bar-fill" style={{ transform: `scaleX(${fractionLeft(tier.available, tier.capacity)})` }} />
      </span>
    </label>
  );
});

/** Same size as a TierCard, shown until the first availability answer arrives. */
export function TierCardSkeleton() {
  return (
    <div className="tier-card is-skeleton" aria-hidden="true">
      <span className="tier-check" />
      <span className="tier-name">
        <span className="skel skel-name" />
      </span>
      <span className="tier-price">
        <span className="skel skel-price" />
      </span>
      <span className="tier-seats">
        <span className="skel skel-seats" />
      </span>
      <span className="tier-badge tier-badge--skel">
        <span className="skel skel-badge" />
      </span>
      <span className="tier-bar" />
    </div>
  );
}
