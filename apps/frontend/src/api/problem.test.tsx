import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ProblemView } from '../ui/ProblemView';
import { readProblem, rejectionMessage } from './problem';

describe('readProblem', () => {
  it('reads an RFC 9457 problem with field errors', async () => {
    const response = new Response(
      JSON.stringify({
        type: 'https://archbench.dev/problems/validation-failed',
        title: 'Validation failed',
        status: 422,
        detail: 'items.0.quantity: must be at least 1',
        code: 'validation-failed',
        errors: [{ path: 'items.0.quantity', message: 'must be at least 1' }],
      }),
      { status: 422, headers: { 'content-type': 'application/problem+json' } },
    );
    expect(await readProblem(response)).toEqual({
      title: 'Validation failed',
      detail: 'items.0.quantity: must be at least 1',
      status: 422,
      code: 'validation-failed',
      errors: [{ path: 'items.0.quantity', message: 'must be at least 1' }],
    });
  });

  it('turns a non-JSON error page into a readable message', async () => {
    const problem = await readProblem(new Response('<html><body><h1>Bad Gateway</h1></body></html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(problem.title).toBe('Request failed (HTTP 502 Bad Gateway)');
    expect(problem.detail).toBe('Bad Gateway');
  });
});

describe('ProblemView', () => {
  it('shows title, detail and each field error in an alert', () => {
    render(
      <ProblemView
        problem={{
          title: 'Not enough stock',
          detail: 'SKU-0995 has 5 units; 10 were asked for',
          status: 409,
          code: 'insufficient-stock',
          errors: [{ path: 'items.0.quantity', message: 'at most 5 available' }],
        }}
      />,
    );
    const alert = screen.getByRole('alert');
    expect(alert).toHaveProperty('textContent', expect.stringContaining('Not enough stock'));
    expect(within(alert).getByText('SKU-0995 has 5 units; 10 were asked for')).toBeTruthy();
    expect(within(alert).getByText('(HTTP 409)')).toBeTruthy();
    const errors = within(alert).getByRole('list', { name: 'Field errors' });
    expect(errors.textContent).toBe('items.0.quantity: at most 5 available');
  });
});

describe('rejectionMessage', () => {
  it('explains each rejection reason to the customer', () => {
    expect(rejectionMessage('payment_declined')).toMatch(/^Payment declined by the card issuer/);
    expect(rejectionMessage('payment_provider_error')).toMatch(/payment provider failed/);
    expect(rejectionMessage('something_new')).toBe('The order was rejected (something_new).');
  });
});
