import type { MouseEvent, ReactNode } from 'react';

/**
 * A small Markdown renderer for ADRs (MADR): headings, paragraphs, lists, block quotes, code
 * blocks, tables, and inline code / bold / italic / links. It builds React elements and never
 * sets HTML, so a file cannot inject markup or script; raw HTML in the text is shown as text.
 * @example <div>{renderMarkdown('# Title\n\nSome *text*')}</div>
 */
export function renderMarkdown(source: string): ReactNode[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: ReactNode[] = [];
  let i = 0;
  let key = 0;
  const next = () => `md-${key++}`;

  const isBlank = (line: string | undefined) => line === undefined || line.trim() === '';
  const startsBlock = (line: string) => /^(#{1,6}\s|```|>\s?|\s*[-*+]\s|\s*\d+[.)]\s|\|)/.test(line) || /^(-{3,}|\*{3,})\s*$/.test(line);

  // YAML front matter (MADR uses it for status/date): shown as a definition list.
  if (lines[0] === '---') {
    const end = lines.indexOf('---', 1);
    if (end > 0) {
      const pairs = lines
        .slice(1, end)
        .map((l) => l.split(/:\s*/, 2) as [string, string?])
        .filter(([k]) => k.trim());
      blocks.push(
        <dl key={next()} className="front-matter">
          {pairs.map(([k, v], index) => (
            <div key={index}>
              <dt>{k}</dt>
              <dd>{v ?? ''}</dd>
            </div>
          ))}
        </dl>,
      );
      i = end + 1;
    }
  }

  while (i < lines.length) {
    const line = lines[i]!;
    if (isBlank(line)) {
      i++;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1]!.length + 1) as 2 | 3 | 4 | 5 | 6;
      const Tag = `h${level}` as const;
      blocks.push(
        <Tag key={next()} data-anchor={slug(heading[2]!)}>
          {inline(heading[2]!)}
        </Tag>,
      );
      i++;
      continue;
    }
    if (line.startsWith('```')) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.startsWith('```')) body.push(lines[i++]!);
      i++;
      blocks.push(
        <pre key={next()} tabIndex={0}>
          <code>{body.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    if (/^(-{3,}|\*{3,})\s*$/.test(line)) {
      blocks.push(<hr key={next()} />);
      i++;
      continue;
    }
    if (line.startsWith('>')) {
      const quoted: string[] = [];
      while (i < lines.length && lines[i]!.startsWith('>')) quoted.push(lines[i++]!.replace(/^>\s?/, ''));
      blocks.push(<blockquote key={next()}>{renderMarkdown(quoted.join('\n'))}</blockquote>);
      continue;
    }
    if (line.startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i]!.startsWith('|')) {
        const cells = lines[i]!.trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim());
        if (!cells.every((c) => /^:?-{2,}:?$/.test(c))) rows.push(cells);
        i++;
      }
      const [head, ...body] = rows;
      blocks.push(
        <div key={next()} className="table-scroll">
          <table>
            {head && (
              <thead>
                <tr>
                  {head.map((c, index) => (
                    <th key={index} scope="col">
                      {inline(c)}
                    </th>
                  ))}
                </tr>
              </thead>
            )}
            <tbody>
              {body.map((row, r) => (
                <tr key={r}>
                  {row.map((c, index) => (
                    <td key={index}>{inline(c)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>,
      );
      continue;
    }
    const listItem = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (listItem) {
      const ordered = /\d/.test(listItem[1]!);
      const items: string[] = [];
      while (i < lines.length) {
        const m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(lines[i]!);
        if (m) {
          items.push(m[2]!);
        } else if (!isBlank(lines[i]) && /^\s{2,}/.test(lines[i]!) && items.length > 0) {
          items[items.length - 1] += ` ${lines[i]!.trim()}`;
        } else break;
        i++;
      }
      const ListTag = ordered ? 'ol' : 'ul';
      blocks.push(
        <ListTag key={next()}>
          {items.map((item, index) => (
            <li key={index}>{inline(item)}</li>
          ))}
        </ListTag>,
      );
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && !isBlank(lines[i]) && (paragraph.length === 0 || !startsBlock(lines[i]!))) paragraph.push(lines[i++]!.trim());
    blocks.push(<p key={next()}>{inline(paragraph.join(' '))}</p>);
  }
  return blocks;
}

const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*|__[^_]+__)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/;

/**
 * The anchor name GitHub gives a heading, which ADRs link to: lower case, punctuation dropped,
 * spaces as hyphens. Kept in data-anchor (not id: several ADRs on one page share headings).
 * @example slug('Decision Outcome') // 'decision-outcome'
 */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

/**
 * Follows an in-document link (`#decision-outcome`) without changing the URL hash, which
 * addresses the app's views: focuses and scrolls to the heading of that name in the same ADR.
 */
function followAnchor(event: MouseEvent<HTMLAnchorElement>, name: string) {
  event.preventDefault();
  const scope: ParentNode = event.currentTarget.closest('article') ?? document;
  const target = [...scope.querySelectorAll<HTMLElement>('[data-anchor], [id]')].find((el) => el.dataset.anchor === name || el.id === name);
  if (!target) return;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
  target.scrollIntoView?.({ block: 'start' });
}

/**
 * Inline markup. Links: absolute http(s) links open in a new tab (the loaded report stays),
 * mailto: links stay links, in-document anchors (`#name`) move within the ADR; any other target
 * (a relative `0004-x.md`, `#/orders`, `javascript:`) is shown as its text, since following it
 * would leave the report viewer and lose the files loaded into it.
 */
function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let rest = text;
  let key = 0;
  while (rest.length > 0) {
    const match = INLINE.exec(rest);
    if (!match) {
      out.push(rest);
      break;
    }
    if (match.index > 0) out.push(rest.slice(0, match.index));
    const token = match[0];
    if (match[1]) out.push(<code key={key++}>{token.slice(1, -1)}</code>);
    else if (match[2]) out.push(<strong key={key++}>{inline(token.slice(2, -2))}</strong>);
    else if (match[3]) out.push(<em key={key++}>{inline(token.slice(1, -1))}</em>);
    else {
      const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token)!;
      const href = link[2]!;
      const label = inline(link[1]!);
      if (/^https?:\/\/[^/]/i.test(href)) {
        out.push(
          <a key={key++} href={href} target="_blank" rel="noreferrer noopener">
            {label}
            <span className="visually-hidden"> (opens in a new tab)</span>
          </a>,
        );
      } else if (/^mailto:/i.test(href)) {
        out.push(
          <a key={key++} href={href}>
            {label}
          </a>,
        );
      } else if (/^#[^/]/.test(href)) {
        let name = href.slice(1);
        try {
          name = decodeURIComponent(name);
        } catch {
          // a malformed escape: look the name up as written
        }
        out.push(
          <a key={key++} href={href} onClick={(event) => followAnchor(event, name)}>
            {label}
          </a>,
        );
      } else {
        out.push(<span key={key++}>{label}</span>);
      }
    }
    rest = rest.slice(match.index + token.length);
  }
  return out;
}
