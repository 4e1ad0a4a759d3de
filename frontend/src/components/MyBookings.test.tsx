import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { SavedBooking } from '../hooks/useMyBookings';
import { TIERS } from '../test-utils';
import { MyBookings } from './MyBookings';

const at = '2026-11-22T17:12:07.657Z';

describe('MyBookings', () => {
  it('says where bookings will appear when there are none', () => {
    render(<MyBookings bookings={[]} tiers={TIERS} />);
    expect(screen.getByRole('heading', { name: 'My bookings' })).toBeInTheDocument();
    expect(screen.getByText(/show up here/)).toBeInTheDocument();
  });

  it('lists each booking with its tier, quantity, amount and live status', () => {
    const bookings: SavedBooking[] = [
      { booking_id: 'a1', tier: 'GA', quantity: 2, status: 'pending', created_at: at },
      { booking_id: 'b2', tier: 'VIP', quantity: 1, status: 'confirmed', amount_cents: 10000, currency: 'USD', customer: 'Ada', created_at: at },
      { booking_id: 'c3', tier: 'FRONT_ROW', quantity: 4, status: 'rejected', message: 'Not enough tickets available', created_at: at },
      { booking_id: 'd4', tier: 'GA', quantity: 1, status: 'pending', lost: true, created_at: at },
    ];
    render(<MyBookings bookings={bookings} tiers={TIERS} />);
    const items = within(screen.getByTestId('my-bookings')).getAllByRole('listitem');
    expect(items).toHaveLength(4);
    expect(items[0]).toHaveTextContent('General Admission · 2 tickets · $20.00');
    expect(within(items[0]).getByTestId('booking-state')).toHaveTextContent('Pending');
    expect(items[1]).toHaveTextContent('VIP · 1 ticket · $100.00');
    expect(items[1]).toHaveTextContent('Ada');
    expect(within(items[1]).getByTestId('booking-state')).toHaveTextContent('Confirmed');
    expect(within(items[2]).getByTestId('booking-state')).toHaveTextContent('Rejected');
    expect(items[2]).toHaveTextContent('Not enough tickets available');
    expect(within(items[3]).getByTestId('booking-state')).toHaveTextContent('Unknown');
  });
});
