import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from './App';
import type { Tier } from './api';
import { confirmed, deferred, ID, json, mockFetch, networkError, pending, TIERS, type Reply } from './test-utils';

function backend(opts: { book?: () => Reply | Promise<Reply> } = {}) {
  let tiers: Tier[] = structuredClone(TIERS);
  const f = mockFetch({
    'GET /tickets': () => json(200, tiers),
    'POST /book': opts.book ?? (() => json(202, pending())),
    'GET /bookings/:id': () => {
      tiers = tiers.map((t) => (t.tier === 'GA' ? { ...t, available: t.available - 2 } : t));
      return json(200, confirmed());
    },
  });
  return f;
}

async function chooseGA(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByRole('radio', { name: 'General Admission' }));
  await user.click(screen.getByRole('button', { name: 'One ticket more' }));
}

describe('App', () => {
  it('books GA ×2, shows the confirmation, the lower seat count and the booking in My bookings', async () => {
    const f = backend();
    const user = userEvent.setup();
    render(<App />);
    expect(await screen.findByText('$100.00')).toBeInTheDocument();
    await chooseGA(user);
    await user.type(screen.getByLabelText(/Name on the booking/), 'Ada');
    await user.click(screen.getByRole('button', { name: 'Book' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Booking confirmed'));
    expect(screen.getByTestId('booking-total')).toHaveTextContent('$20.00');
    expect(f.of('POST', '/book')[0].body).toEqual({ tier: 'GA', quantity: 2, customer: 'Ada' });
    // The decision triggers a refresh: the seats drop without waiting for the next tick.
    await waitFor(() => expect(screen.getByTestId('tier-GA')).toHaveTextContent('998 of 1,000 left'));
    const mine = within(screen.getByTestId('my-bookings'));
    expect(mine.getByText(ID)).toBeInTheDocument();
    expect(mine.getByTestId('booking-state')).toHaveTextContent('Confirmed');
  });

  it('a double click books once', async () => {
    const held = deferred<Reply>();
    const f = backend({ book: () => held.promise });
    const user = userEvent.setup();
    render(<App />);
    await chooseGA(user);
    await user.dblClick(screen.getByRole('button', { name: 'Book' }));
    held.resolve(json(202, pending()));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Booking confirmed'));
    expect(f.of('POST', '/book')).toHaveLength(1);
  });

  it('after a network error, Try again keeps what was typed and reuses the Idempotency-Key', async () => {
    const answers: Reply[] = [networkError(), json(202, pending())];
    const f = backend({ book: () => answers.shift()! });
    const user = userEvent.setup();
    render(<App />);
    await chooseGA(user);
    await user.type(screen.getByLabelText(/Name on the booking/), 'Ada');
    await user.click(screen.getByRole('button', { name: 'Book' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('couldn’t reach the box office'));
    expect(screen.getByLabelText(/Name on the booking/)).toHaveValue('Ada');
    expect(screen.getByLabelText('Quantity')).toHaveValue(2);
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Booking confirmed'));
    const [a, b] = f.of('POST', '/book');
    expect(b.headers['idempotency-key']).toBe(a.headers['idempotency-key']);
  });

  it('a 4xx shows the server’s message next to the form and marks the field', async () => {
    backend({ book: () => json(400, { error: 'customer must not contain control characters', field: 'customer' }) });
    const user = userEvent.setup();
    render(<App />);
    await chooseGA(user);
    await user.click(screen.getByRole('button', { name: 'Book' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('customer must not contain control characters'));
    expect(screen.getByLabelText(/Name on the booking/)).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
  });

  it('a rejection says so', async () => {
    backend({
      book: () => json(200, confirmed({ status: 'rejected', reason: 'sold_out', message: 'Not enough tickets available' })),
    });
    const user = userEvent.setup();
    render(<App />);
    await chooseGA(user);
    await user.click(screen.getByRole('button', { name: 'Book' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Not enough tickets available'));
    expect(within(screen.getByTestId('my-bookings')).getByTestId('booking-state')).toHaveTextContent('Rejected');
  });

  it('My bookings survive a reload', async () => {
    backend();
    const user = userEvent.setup();
    const first = render(<App />);
    await chooseGA(user);
    await user.click(screen.getByRole('button', { name: 'Book' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Booking confirmed'));
    first.unmount();
    render(<App />);
    expect(within(screen.getByTestId('my-bookings')).getByText(ID)).toBeInTheDocument();
  });
});
