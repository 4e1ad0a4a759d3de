import { describe, expect, it } from 'vitest';
import { clampQuantity, formatCount, formatMoney, formatWhen, fractionLeft, isLow, maxQuantity, ticketsLabel } from './format';

describe('formatMoney', () => {
  it.each([
    [10000, '$100.00'],
    [5000, '$50.00'],
    [1000, '$10.00'],
    [2050, '$20.50'],
    [0, '$0.00'],
    [123456789, '$1,234,567.89'],
  ])('%i cents is %s', (cents, text) => {
    expect(formatMoney(cents)).toBe(text);
  });

  it('uses the currency the API names', () => {
    expect(formatMoney(1000, 'EUR')).toBe('€10.00');
  });
});

describe('quantity limits', () => {
  it.each([
    [1000, 10],
    [10, 10],
    [9, 9],
    [3, 3],
    [1, 1],
    [0, 0],
    [-2, 0],
  ])('with %i seats left at most %i can be booked', (available, max) => {
    expect(maxQuantity(available)).toBe(max);
  });

  it('honours another per-order limit', () => {
    expect(maxQuantity(100, 4)).toBe(4);
  });

  it.each([
    ['2', 10, 2],
    ['0', 10, 1],
    ['-5', 10, 1],
    ['11', 10, 10],
    ['7', 3, 3],
    ['', 10, 1],
    ['abc', 10, 1],
    ['2.7', 10, 2],
    [4, 10, 4],
    [5, 0, 1],
  ] as const)('clampQuantity(%j, %i) = %i', (value, max, want) => {
    expect(clampQuantity(value, max)).toBe(want);
  });
});

describe('small formatters', () => {
  it('counts with separators and pluralises', () => {
    expect(formatCount(1000)).toBe('1,000');
    expect(ticketsLabel(1)).toBe('1 ticket');
    expect(ticketsLabel(2)).toBe('2 tickets');
  });

  it('computes the share left and the low-stock flag', () => {
    expect(fractionLeft(50, 200)).toBe(0.25);
    expect(fractionLeft(5, 0)).toBe(0);
    expect(isLow(50, 200)).toBe(true);
    expect(isLow(51, 200)).toBe(false);
    expect(isLow(10, 1000)).toBe(true);
    expect(isLow(0, 100)).toBe(false);
  });

  it('formats times, and nothing for garbage', () => {
    const now = new Date('2026-11-22T18:00:00Z');
    expect(formatWhen(undefined, now)).toBe('');
    expect(formatWhen('not a time', now)).toBe('');
    expect(formatWhen('2026-11-22T17:12:07.657Z', now)).toMatch(/\d{1,2}:\d{2}/);
  });
});
