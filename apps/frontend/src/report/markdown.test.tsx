import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

function html(markdown: string) {
  return render(<div>{renderMarkdown(markdown)}</div>).container;
}

describe('renderMarkdown', () => {
  it('renders headings one level below the page title, lists, tables and code', () => {
    const c = html(
      '# Title\n\nText with `code` and *emphasis*.\n\n1. one\n2. two\n\n| Option | Score |\n|---|---:|\n| monolith | 8 |\n\n```\npnpm compare\n```',
    );
    expect(c.querySelector('h2')?.textContent).toBe('Title');
    expect(c.querySelector('p code')?.textContent).toBe('code');
    expect(c.querySelector('em')?.textContent).toBe('emphasis');
    expect([...c.querySelectorAll('ol li')].map((li) => li.textContent)).toEqual(['one', 'two']);
    expect([...c.querySelectorAll('tbody td')].map((td) => td.textContent)).toEqual(['monolith', '8']);
    expect(c.querySelector('pre code')?.textContent).toBe('pnpm compare');
  });

  it('shows raw HTML as text and drops javascript: links', () => {
    const c = html('<img src=x onerror=alert(1)> [click](javascript:alert(1)) [docs](https://example.org/adr)');
    expect(c.querySelector('img')).toBeNull();
    expect(c.textContent).toContain('<img src=x onerror=alert(1)>');
    const links = [...c.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.org/adr']);
  });

  it('shows relative links (ADR to ADR, app hashes) as text, not as links that would leave the report viewer', () => {
    // as packages/decision-cli writes them when an ADR is superseded
    const c = html('Superseded by [ADR-0004](0004-y.md). See [up](../x.md), [root](/x.json), [console](#/orders) and [proto](//evil.example/x).');
    expect(c.querySelector('a')).toBeNull();
    expect(c.textContent).toBe('Superseded by ADR-0004. See up, root, console and proto.');
  });

  it('opens absolute links in a new tab and follows in-document anchors without changing the URL hash', async () => {
    const user = userEvent.setup();
    window.history.replaceState(null, '', '/#/report');
    render(
      <article>
        {renderMarkdown('# Title\n\nSee [the outcome](#decision-outcome) and [docs](https://example.org/adr).\n\n## Decision Outcome\n\nChosen.')}
      </article>,
    );
    const docs = screen.getByRole('link', { name: 'docs (opens in a new tab)' });
    expect(docs.getAttribute('target')).toBe('_blank');
    expect(docs.getAttribute('rel')).toBe('noreferrer noopener');

    await user.click(screen.getByRole('link', { name: 'the outcome' }));
    expect(window.location.hash).toBe('#/report');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Decision Outcome' }));
    window.history.replaceState(null, '', '/');
  });
});
