import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { TIERS } from '../test-utils';
import { TierCard } from './TierCard';

const VIP = TIERS[0];

describe('TierCard', () => {
  it('shows the name, the price in dollars and the seats left out of capacity', () => {
    render(<TierCard tier={{ ...TIERS[2], available: 998 }} selected={false} onSelect={() => {}} group="t" />);
    const radio = screen.getByRole('radio', { name: 'General Admission' });
    expect(radio).toBeEnabled();
    expect(radio).toHaveAccessibleDescription(/\$10\.00 per ticket 998 of 1,000 left/);
    expect(screen.getByTestId('seats')).toHaveTextContent('998 of 1,000 left');
    expect(screen.getByText('$10.00')).toBeInTheDocument();
  });

  it('draws the bar at the share of seats left', () => {
    const { container } = render(<TierCard tier={{ ...VIP, available: 25 }} selected={false} onSelect={() => {}} group="t" />);
    expect(container.querySelector<HTMLElement>('.tier-bar-fill')!.style.transform).toBe('scaleX(0.25)');
    expect(screen.getByTestId('badge')).toHaveTextContent('Few left');
  });

  it('selects its tier on click and by keyboard', async () => {
    const onSelect = vi.fn();
    render(<TierCard tier={VIP} selected={false} onSelect={onSelect} group="t" />);
    await userEvent.click(screen.getByText('VIP'));
    expect(onSelect).toHaveBeenCalledWith('VIP');
  });

  it('is clearly sold out and cannot be chosen', async () => {
    const onSelect = vi.fn();
    render(<TierCard tier={{ ...VIP, available: 0 }} selected={false} onSelect={onSelect} group="t" />);
    const radio = screen.getByRole('radio', { name: 'VIP' });
    expect(radio).toBeDisabled();
    expect(screen.getByTestId('badge')).toHaveTextContent('Sold out');
    expect(screen.getByTestId('seats')).toHaveTextContent('0 of 100 left');
    expect(radio).toHaveAccessibleDescription(/Sold out/);
    await userEvent.click(screen.getByText('VIP'));
    expect(onSelect).not.toHaveBeenCalled();
  });
});
