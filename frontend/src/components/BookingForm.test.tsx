import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { BookingRequest, Tier } from '../api';
import { TIERS } from '../test-utils';
import { BookingForm, type BookingFormProps } from './BookingForm';

function setup(over: Partial<BookingFormProps> = {}) {
  const onSubmit = vi.fn<(r: BookingRequest) => void>();
  const onSelect = vi.fn();
  const props: BookingFormProps = { tiers: TIERS, selected: 'GA', onSelect, busy: false, onSubmit, ...over };
  const utils = render(<BookingForm {...props} />);
  const rerender = (more: Partial<BookingFormProps>) => utils.rerender(<BookingForm {...props} {...more} />);
  return { onSubmit, onSelect, rerender, user: userEvent.setup() };
}

const qty = () => screen.getByLabelText('Quantity') as HTMLInputElement;
const book = () => screen.getByRole('button', { name: /^(Book|Sold out|Booking…)$/ });

describe('BookingForm', () => {
  it('shows skeletons of the same shape until the tiers arrive', () => {
    const { container } = render(
      <BookingForm tiers={null} selected={null} onSelect={() => {}} busy={false} onSubmit={() => {}} />,
    );
    expect(container.querySelectorAll('.tier-card.is-skeleton')).toHaveLength(3);
    expect(book()).toHaveAttribute('aria-disabled', 'true');
  });

  it('books the selected tier with the quantity and the trimmed name, and shows the total', async () => {
    const { onSubmit, user } = setup();
    await user.click(screen.getByRole('button', { name: 'One ticket more' }));
    expect(qty().value).toBe('2');
    expect(screen.getByTestId('total')).toHaveTextContent('$20.00');
    await user.type(screen.getByLabelText(/Name on the booking/), '  Ada Lovelace ');
    await user.click(book());
    expect(onSubmit).toHaveBeenCalledWith({ tier: 'GA', quantity: 2, customer: 'Ada Lovelace' });
  });

  it('leaves customer out when no name is given; Enter submits', async () => {
    const { onSubmit, user } = setup();
    await user.type(screen.getByLabelText(/Name on the booking/), '   {Enter}');
    expect(onSubmit).toHaveBeenCalledWith({ tier: 'GA', quantity: 1 });
  });

  it('allows 1 to 10 tickets per order', async () => {
    const { user } = setup();
    const more = screen.getByRole('button', { name: 'One ticket more' });
    const fewer = screen.getByRole('button', { name: 'One ticket fewer' });
    expect(fewer).toBeDisabled();
    for (let i = 0; i < 12; i++) await user.click(more);
    expect(qty().value).toBe('10');
    expect(more).toBeDisabled();
    await user.clear(qty());
    await user.type(qty(), '25');
    await user.tab();
    expect(qty().value).toBe('10');
    await user.clear(qty());
    await user.type(qty(), '0');
    await user.tab();
    expect(qty().value).toBe('1');
  });

  it('allows no more than the seats left, and lowers the quantity when seats run out', async () => {
    const { user, rerender, onSubmit } = setup({ selected: 'FRONT_ROW' });
    expect(screen.getByText('Only 3 tickets left in this tier.')).toBeInTheDocument();
    await user.clear(qty());
    await user.type(qty(), '7');
    await user.tab();
    expect(qty().value).toBe('3');
    const fewer: Tier[] = TIERS.map((t) => (t.tier === 'FRONT_ROW' ? { ...t, available: 2 } : t));
    rerender({ selected: 'FRONT_ROW', tiers: fewer });
    expect(qty().value).toBe('2');
    await user.click(book());
    expect(onSubmit).toHaveBeenCalledWith({ tier: 'FRONT_ROW', quantity: 2 });
  });

  it('a sold-out tier cannot be booked', async () => {
    const soldOut = TIERS.map((t) => (t.tier === 'VIP' ? { ...t, available: 0 } : t));
    const { user, onSubmit } = setup({ tiers: soldOut, selected: 'VIP' });
    expect(book()).toHaveTextContent('Sold out');
    expect(book()).toHaveAttribute('aria-disabled', 'true');
    expect(qty()).toBeDisabled();
    await user.click(book());
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('does nothing while a booking is under way', async () => {
    const { user, onSubmit } = setup({ busy: true });
    expect(book()).toHaveTextContent('Booking…');
    await user.click(book());
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('marks the field the server refused and points it at the message', () => {
    render(
      <>
        <BookingForm tiers={TIERS} selected="GA" onSelect={() => {}} busy={false} onSubmit={() => {}} invalidField="customer" errorId="err" />
        <p id="err">customer must not contain control characters</p>
      </>,
    );
    const name = screen.getByLabelText(/Name on the booking/);
    expect(name).toHaveAttribute('aria-invalid', 'true');
    expect(name).toHaveAccessibleDescription('customer must not contain control characters');
    expect(qty()).not.toHaveAttribute('aria-invalid');
  });

  it('keeps what was typed across re-renders (e.g. after an error)', async () => {
    const { user, rerender } = setup();
    await user.type(screen.getByLabelText(/Name on the booking/), 'Ada');
    await user.click(screen.getByRole('button', { name: 'One ticket more' }));
    rerender({ busy: true });
    rerender({ busy: false, status: <p>Not booked yet</p> });
    expect(screen.getByLabelText(/Name on the booking/)).toHaveValue('Ada');
    expect(qty().value).toBe('2');
  });

  it('tier cards form a keyboard radio group', async () => {
    const { user, onSelect } = setup({ selected: 'VIP' });
    screen.getByRole('radio', { name: 'VIP' }).focus();
    await user.keyboard('{ArrowDown}');
    expect(onSelect).toHaveBeenCalledWith('FRONT_ROW');
  });
});
