import { render } from '@testing-library/react';
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
});
