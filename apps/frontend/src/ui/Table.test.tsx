import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ScrollTable, num } from './Table';

describe('ScrollTable', () => {
  it('is a focusable region named by its label, around the table', () => {
    render(
      <ScrollTable label="Products" columns={['SKU', num('Price')]}>
        <tr>
          <td>SKU-0001</td>
          <td className="num">€19.99</td>
        </tr>
      </ScrollTable>,
    );
    const region = screen.getByRole('region', { name: 'Products' });
    expect(region.tabIndex).toBe(0);
    expect(within(region).getByRole('table')).toBeTruthy();
    expect(
      within(region)
        .getAllByRole('columnheader')
        .map((th) => th.textContent),
    ).toEqual(['SKU', 'Price']);
  });
});
