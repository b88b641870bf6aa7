import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from './App';
import type { FetchLike } from './api/client';

const noBackends: FetchLike = async () => new Response(JSON.stringify({ backends: [], devLogin: true }), { headers: { 'content-type': 'application/json' } });

function at(hash: string) {
  window.history.replaceState(null, '', `/${hash}`);
}

describe('App', () => {
  afterEach(() => at(''));

  it('"Skip to content" on #/report focuses main and keeps the report view and the URL', async () => {
    const user = userEvent.setup();
    at('#/report');
    render(<App fetch={noBackends} />);
    expect(screen.getByRole('heading', { name: 'Report viewer' })).toBeTruthy();

    await user.click(screen.getByRole('link', { name: 'Skip to content' }));
    expect(document.activeElement).toBe(screen.getByRole('main'));
    expect(window.location.hash).toBe('#/report');
    expect(screen.getByRole('heading', { name: 'Report viewer' })).toBeTruthy();

    // from the keyboard too: Tab to the link, Enter
    screen.getByRole('link', { name: 'Skip to content' }).focus();
    await user.keyboard('{Enter}');
    expect(document.activeElement).toBe(screen.getByRole('main'));
    expect(screen.getByRole('heading', { name: 'Report viewer' })).toBeTruthy();
  });

  it('keeps the current view on a hash that names no view (an in-document anchor), and follows view hashes', async () => {
    at('#/lab');
    render(<App fetch={noBackends} />);
    const lab = screen.getByRole('link', { name: 'Concurrency lab' });
    expect(lab.getAttribute('aria-current')).toBe('page');

    await act(async () => {
      window.location.hash = '#decision-outcome';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    expect(lab.getAttribute('aria-current')).toBe('page');

    await act(async () => {
      window.location.hash = '#/report';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    expect(screen.getByRole('link', { name: 'Report viewer' }).getAttribute('aria-current')).toBe('page');
  });
});
