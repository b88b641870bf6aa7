import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FetchLike } from '../api/client';
import SAMPLE from '../../public/sample-comparison.json?raw';
import { ReportViewer } from './ReportViewer';

const serveSample: FetchLike = async (input) =>
  input === '/reports/comparison.json'
    ? new Response(SAMPLE, { headers: { 'content-type': 'application/json' } })
    : new Response('missing', { status: 404, statusText: 'Not Found' });

describe('ReportViewer', () => {
  it('shows a comparison from ?report= with per-topology figures and ratios against the monolith', async () => {
    render(<ReportViewer initialUrl="/reports/comparison.json" fetch={serveSample} />);
    await screen.findByTestId('comparison');

    // server side: microservices used 3.3 vs 1.2 CPU s per 1k orders, 550 vs 150 MiB peak
    expect(screen.getByTestId('cpu-ratio-microservices-http').textContent).toBe('2.75× monolith');
    expect(screen.getByTestId('memory-ratio-microservices-http').textContent).toBe('3.67× monolith');
    expect(screen.getByTestId('cpu-ratio-monolith').textContent).toBe('baseline');

    // client side, per scenario: p95 37 vs 20 ms when placing orders
    expect(screen.getByTestId('p95-ratio-place-order-microservices-http').textContent).toBe('1.85× monolith');
    const placeOrder = screen.getByRole('heading', { name: 'Scenario place-order' }).closest('section')!;
    const row = within(placeOrder).getByRole('row', { name: /^microservices-http/ });
    // The sample is a version 1 file, whose throughput counted every request: 300 req/s with 2 %
    // failed reads as 294 successful requests/s, marked as converted.
    expect(row.textContent).toContain('294 req/s');
    expect(within(row).getByTestId('throughput-converted-place-order-microservices-http').textContent).toBe(
      '* converted to successful requests/s, see the note below the table',
    );
    expect(within(placeOrder).getByTestId('throughput-converted-note-place-order').textContent).toBe(
      '* Converted: the throughput this version 1 file gives for monolith, microservices-http counted failed requests too; shown as successful requests/s, throughput × (1 − error rate), in this table and the throughput chart.',
    );
    // browse failed nothing: its throughput is as written, and not marked.
    const browse = screen.getByRole('heading', { name: 'Scenario browse' }).closest('section')!;
    expect(within(browse).getByRole('row', { name: /^microservices-http/ }).textContent).toContain('950 req/s');
    expect(within(browse).queryByText(/converted/)).toBeNull();
    // …and the run's facts say the file was converted and what it cannot tell.
    const note = screen.getByRole('note');
    expect(note.closest('section')).toBe(screen.getByRole('heading', { name: 'The run' }).closest('section'));
    expect(note.textContent).toMatch(/^Older file: written with schema version 1, shown with version 3's meanings/);
    expect(
      within(note)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([
      expect.stringMatching(/^throughput in this version 1 file counted failed requests too; .* for place-order\/monolith, place-order\/microservices-http/),
      expect.stringMatching(/^this version 1 file may count orders answered 201 but REJECTED as placed orders .* cannot be corrected from the file$/),
    ]);
    expect(row.textContent).toContain('2 %');
    expect(row.textContent).toContain('✗ http_req_failed rate<0.01');

    // charts are images with a text alternative naming every value
    const latency = screen.getByRole('img', { name: 'Latency of place-order (lower is better)' });
    expect(latency.querySelector('desc')?.textContent).toContain('p95: monolith 20 ms, microservices-http 37 ms');
    expect(screen.getByRole('img', { name: /CPU seconds per 1,000 orders/ })).toBeTruthy();
    expect(screen.getByRole('img', { name: /Memory, summed over processes/ })).toBeTruthy();

    // what the run could not measure is said, not silently left out
    expect(screen.getByText(/AMQP_URL is not set/).closest('li')?.textContent).toBe('microservices-amqp: AMQP_URL is not set (RabbitMQ not configured)');
    expect(within(placeOrder).getByText(/^Open model/)).toBeTruthy();
  });

  it('reads schema versions 1 to 3 and refuses a newer one with a message saying so', async () => {
    const user = userEvent.setup();
    render(<ReportViewer fetch={serveSample} />);
    // Version 3 is read (the sample as version 3 is shown); the first unknown version, 4, is refused.
    const input = screen.getByLabelText('Comparison file (comparison.json)');
    await user.upload(input, new File([JSON.stringify({ ...JSON.parse(SAMPLE), schemaVersion: 3 })], 'current.json', { type: 'application/json' }));
    await screen.findByTestId('comparison');
    await user.upload(input, new File([JSON.stringify({ ...JSON.parse(SAMPLE), schemaVersion: 4 })], 'newer.json', { type: 'application/json' }));
    const error = await screen.findByTestId('report-error');
    expect(error.textContent).toContain('newer.json: comparison file has schemaVersion 4; this version of archbench reads schemaVersion 1, 2 or 3');
    expect(screen.queryByTestId('comparison')).toBeNull();
  });

  it('names the invalid field of a broken file, and says when a URL cannot be loaded', async () => {
    const user = userEvent.setup();
    render(<ReportViewer fetch={serveSample} />);
    const broken = JSON.parse(SAMPLE) as { scenarios: { latencyMs: { p95: unknown } }[] };
    broken.scenarios[0]!.latencyMs.p95 = 'fast';
    await user.upload(screen.getByLabelText('Comparison file (comparison.json)'), new File([JSON.stringify(broken)], 'broken.json'));
    expect((await screen.findByTestId('report-error')).textContent).toContain('scenarios.0.latencyMs.p95');

    await user.type(screen.getByLabelText('…or its URL'), '/nope.json');
    await user.click(screen.getByRole('button', { name: 'Load' }));
    expect((await screen.findByText(/could not load \/nope\.json: HTTP 404 Not Found/)).closest('[role="alert"]')).toBeTruthy();
  });

  it('keeps focus on Load while a URL loads; a second press starts no second load', async () => {
    const user = userEvent.setup();
    const asked: string[] = [];
    let answer: (response: Response) => void = () => undefined;
    const slow: FetchLike = (input) => {
      asked.push(String(input));
      return new Promise((resolve) => (answer = resolve));
    };
    render(<ReportViewer fetch={slow} />);
    await user.type(screen.getByLabelText('…or its URL'), '/reports/comparison.json');
    await user.click(screen.getByRole('button', { name: 'Load' }));
    // Not `disabled`: a disabled button loses focus (to <body> in browsers).
    const button = screen.getByRole('button', { name: 'Loading…' });
    expect(button.getAttribute('aria-disabled')).toBe('true');
    expect(button).toHaveProperty('disabled', false);
    expect(document.activeElement).toBe(button);
    await user.keyboard('{Enter}');
    expect(asked).toEqual(['/reports/comparison.json']);

    await act(async () => answer(new Response(SAMPLE, { headers: { 'content-type': 'application/json' } })));
    await screen.findByTestId('comparison');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Load' }));
  });

  it('renders ADR markdown files as readable documents', async () => {
    const user = userEvent.setup();
    render(<ReportViewer fetch={serveSample} />);
    const adr =
      '---\nstatus: accepted\ndate: 2025-01-15\n---\n# Use a modular monolith\n\n## Decision Outcome\n\nChosen option: **modular monolith**, because p95 is `1.85×` lower.\n\n* Good, because one deploy\n* Bad, because one database\n';
    await user.upload(screen.getByLabelText('ADR files (markdown)'), new File([adr], '0001-use-a-modular-monolith.md', { type: 'text/markdown' }));
    const article = await screen.findByRole('article', { name: 'ADR 0001-use-a-modular-monolith.md' });
    expect(within(article).getByRole('heading', { name: 'Use a modular monolith' })).toBeTruthy();
    expect(within(article).getByText('modular monolith', { selector: 'strong' })).toBeTruthy();
    expect(
      within(article)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['Good, because one deploy', 'Bad, because one database']);
    expect(within(article).getByText('accepted')).toBeTruthy();
  });

  describe('loads', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
    });

    it('fetches ?report= once when rendered as App renders it (no fetch prop)', async () => {
      let calls = 0;
      vi.stubGlobal('fetch', async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return new Response(SAMPLE, { headers: { 'content-type': 'application/json' } });
      });
      render(<ReportViewer initialUrl="/reports/comparison.json" />);
      await screen.findByTestId('comparison');
      expect(calls).toBe(1);
      await act(() => new Promise((resolve) => setTimeout(resolve, 300)));
      expect(calls).toBe(1);
      expect(screen.getByText('/reports/comparison.json', { selector: 'code' })).toBeTruthy();
    });

    it('does not load again when only the fetch prop changes, and loads a new initial URL once', async () => {
      const seen: string[] = [];
      const make = (): FetchLike => async (input, init) => {
        seen.push(input);
        return serveSample(input, init);
      };
      const { rerender } = render(<ReportViewer initialUrl="/reports/comparison.json" fetch={make()} />);
      await screen.findByTestId('comparison');
      rerender(<ReportViewer initialUrl="/reports/comparison.json" fetch={make()} />);
      rerender(<ReportViewer initialUrl="/reports/comparison.json" fetch={make()} />);
      await act(() => new Promise((resolve) => setTimeout(resolve, 100)));
      expect(seen).toEqual(['/reports/comparison.json']);

      rerender(<ReportViewer initialUrl="/nope.json" fetch={make()} />);
      expect((await screen.findByTestId('report-error')).textContent).toContain('could not load /nope.json: HTTP 404');
      expect(seen).toEqual(['/reports/comparison.json', '/nope.json']);
    });

    it('ignores an older URL load that answers after a file was picked, and aborts it', async () => {
      const user = userEvent.setup();
      let answer: (response: Response) => void = () => undefined;
      let signal: AbortSignal | undefined;
      const slow: FetchLike = (_input, init) => {
        signal = init?.signal ?? undefined;
        return new Promise((resolve) => (answer = resolve));
      };
      render(<ReportViewer initialUrl="/reports/slow.json" fetch={slow} />);
      await user.upload(screen.getByLabelText('Comparison file (comparison.json)'), new File([SAMPLE], 'picked.json', { type: 'application/json' }));
      await screen.findByTestId('comparison');
      expect(signal?.aborted).toBe(true);

      await act(async () => answer(new Response('not json')));
      await act(() => new Promise((resolve) => setTimeout(resolve, 50)));
      expect(screen.queryByTestId('report-error')).toBeNull();
      expect(screen.getByText('picked.json', { selector: 'code' })).toBeTruthy();
      expect(screen.getByRole('button', { name: 'Load' }).getAttribute('aria-disabled')).toBeNull();
    });

    it('shows only the error when a second file is invalid, not the previous report beside it', async () => {
      const user = userEvent.setup();
      render(<ReportViewer fetch={serveSample} />);
      const input = screen.getByLabelText('Comparison file (comparison.json)');
      await user.upload(input, new File([SAMPLE], 'good.json', { type: 'application/json' }));
      await screen.findByTestId('comparison');
      await user.upload(input, new File(['{'], 'bad.json', { type: 'application/json' }));
      expect((await screen.findByTestId('report-error')).textContent).toContain('bad.json is not JSON');
      expect(screen.queryByTestId('comparison')).toBeNull();
      expect(screen.queryByText(/^Showing/)).toBeNull();
    });
  });
});
