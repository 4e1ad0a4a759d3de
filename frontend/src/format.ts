// Formatting and the per-order limits, kept pure so they are easy to test.

/** The API's per-order limit (docs/api.md: quantity 1..10 with the default BK_MAX_QUANTITY). */
export const MAX_PER_ORDER = 10;

const money = new Map<string, Intl.NumberFormat>();

/** Integer cents as a currency amount: 10000 → "$100.00". */
export function formatMoney(cents: number, currency = 'USD'): string {
  let f = money.get(currency);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    money.set(currency, f);
  }
  return f.format(cents / 100);
}

const count = new Intl.NumberFormat('en-US');

/** 1000 → "1,000". */
export function formatCount(n: number): string {
  return count.format(n);
}

/** The most tickets one order may ask for: min(10, seats left), 0 when sold out. */
export function maxQuantity(available: number, limit = MAX_PER_ORDER): number {
  return Math.max(0, Math.min(limit, Math.floor(available)));
}

/** A typed quantity as a whole number within 1..max (1 for anything unreadable). */
export function clampQuantity(value: number | string, max: number): number {
  const n = typeof value === 'number' ? value : Number.parseInt(value, 10);
  if (!Number.isFinite(n)) return 1;
  return Math.min(Math.max(1, Math.trunc(n)), Math.max(1, max));
}

/** "2 tickets", "1 ticket". */
export function ticketsLabel(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'ticket' : 'tickets'}`;
}

/** Share of seats left, 0..1. */
export function fractionLeft(available: number, capacity: number): number {
  if (capacity <= 0) return 0;
  return Math.min(1, Math.max(0, available / capacity));
}

/** Few seats left: at most a quarter of the tier, or 10 seats. */
export function isLow(available: number, capacity: number): boolean {
  return available > 0 && (available <= 10 || fractionLeft(available, capacity) <= 0.25);
}

const time = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit' });
const dateTime = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

/** An RFC 3339 time as "3:04 PM" today, "Nov 21, 3:04 PM" otherwise; "" when unreadable. */
export function formatWhen(iso: string | undefined, now = new Date()): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toDateString() === now.toDateString() ? time.format(d) : dateTime.format(d);
}
