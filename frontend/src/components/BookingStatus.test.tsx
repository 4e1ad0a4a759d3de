import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { BookingMachine } from '../hooks/useBooking';
import { confirmed, ID, pending, TIERS } from '../test-utils';
import { BookingStatus } from './BookingStatus';

const attempt = { request: { tier: 'GA', quantity: 2 }, key: 'k' };

function show(state: BookingMachine) {
  const onRetry = vi.fn();
  const onReset = vi.fn();
  render(<BookingStatus state={state} tiers={TIERS} onRetry={onRetry} onReset={onReset} messageId="m" />);
  return { onRetry, onReset };
}

describe('BookingStatus', () => {
  it('always has a polite live region, empty when idle', () => {
    show({ phase: 'idle' });
    const region = screen.getByRole('status');
    expect(region).toHaveAttribute('aria-live', 'polite');
    expect(region).toBeEmptyDOMElement();
  });

  it('says when the booking is being sent and when it is pending', () => {
    show({ phase: 'submitting', attempt });
    expect(screen.getByRole('status')).toHaveTextContent('Sending your booking…');
  });

  it('shows pending with the booking id, and a reconnecting note', () => {
    show({ phase: 'pending', attempt, booking: pending(), reconnecting: true });
    const region = screen.getByRole('status');
    expect(region).toHaveTextContent('waiting for confirmation');
    expect(region).toHaveTextContent(ID);
    expect(region).toHaveTextContent('Connection lost');
  });

  it('confirms with the booking id, tier, quantity and total in dollars', async () => {
    const { onReset } = show({ phase: 'confirmed', attempt, booking: confirmed({ customer: 'Ada' }) });
    const region = screen.getByRole('status');
    expect(region).toHaveTextContent('Booking confirmed');
    expect(screen.getByTestId('booking-id')).toHaveTextContent(ID);
    expect(screen.getByTestId('booking-tier')).toHaveTextContent('General Admission');
    expect(screen.getByTestId('booking-quantity')).toHaveTextContent('2 tickets');
    expect(screen.getByTestId('booking-total')).toHaveTextContent('$20.00');
    expect(region).toHaveTextContent('Ada');
    await userEvent.click(screen.getByRole('button', { name: 'Book more tickets' }));
    expect(onReset).toHaveBeenCalled();
  });

  it('shows a rejection clearly', () => {
    show({
      phase: 'rejected',
      attempt,
      booking: confirmed({ status: 'rejected', reason: 'sold_out', message: 'Not enough tickets available', amount_cents: 0 }),
    });
    expect(screen.getByRole('status')).toHaveTextContent('Not enough tickets available');
    expect(screen.getByRole('status')).toHaveTextContent('Nothing was booked');
  });

  it('offers a retry for network errors and 503', async () => {
    const { onRetry } = show({
      phase: 'error',
      attempt,
      error: { kind: 'network', message: 'We couldn’t reach the box office.', retryable: true },
    });
    expect(screen.getByRole('status')).toHaveTextContent('We couldn’t reach the box office.');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(onRetry).toHaveBeenCalled();
  });

  it('shows the server’s 4xx message without a retry', () => {
    show({
      phase: 'error',
      attempt,
      error: { kind: 'client', message: 'quantity must be an integer from 1 to 10', field: 'quantity', retryable: false },
    });
    expect(screen.getByRole('status')).toHaveTextContent('quantity must be an integer from 1 to 10');
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
  });
});
