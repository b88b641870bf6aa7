import { useCallback, useEffect, useId, useState } from 'react';
import type { ChangeEvent, FormEvent } from 'react';
import { ComparisonFormatError, parseComparison } from '@archbench/contracts/comparison';
import type { Comparison } from '@archbench/contracts/comparison';
import type { FetchLike } from '../api/client';
import { ComparisonView } from './ComparisonView';
import { renderMarkdown } from './markdown';

/** Reads a picked file as text (FileReader: works in every browser and in jsdom). */
function readText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsText(file);
  });
}

interface Adr {
  name: string;
  text: string;
}

/**
 * Parses comparison.json text; returns the comparison or a message saying what is wrong.
 * @example readComparison('{"schemaVersion":1,...}') // { ok: true, comparison }
 */
function readComparison(text: string, source: string): { ok: true; comparison: Comparison } | { ok: false; message: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `${source} is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  try {
    return { ok: true, comparison: parseComparison(data) };
  } catch (error) {
    if (error instanceof ComparisonFormatError) return { ok: false, message: `${source}: ${error.message}` };
    throw error;
  }
}

/** Loads a comparison.json (file, URL, or ?report=...) and ADR markdown files, and shows them. */
export function ReportViewer({ initialUrl, fetch = (input, init) => globalThis.fetch(input, init) }: { initialUrl?: string | null; fetch?: FetchLike }) {
  const [comparison, setComparison] = useState<{ data: Comparison; source: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [url, setUrl] = useState(initialUrl ?? '');
  const [adrs, setAdrs] = useState<Adr[]>([]);
  const [loading, setLoading] = useState(false);
  const id = useId();

  const accept = useCallback((text: string, source: string) => {
    const result = readComparison(text, source);
    if (result.ok) {
      setComparison({ data: result.comparison, source });
      setError(null);
    } else {
      setError(result.message);
    }
  }, []);

  const loadUrl = useCallback(
    async (target: string) => {
      setLoading(true);
      setError(null);
      try {
        const response = await fetch(target);
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
        accept(await response.text(), target);
      } catch (e) {
        setError(`could not load ${target}: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        setLoading(false);
      }
    },
    [accept, fetch],
  );

  useEffect(() => {
    if (initialUrl) void loadUrl(initialUrl);
  }, [initialUrl, loadUrl]);

  async function onComparisonFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (file) accept(await readText(file), file.name);
  }

  async function onAdrFiles(event: ChangeEvent<HTMLInputElement>) {
    const files = [...(event.target.files ?? [])];
    const loaded = await Promise.all(files.map(async (file) => ({ name: file.name, text: await readText(file) })));
    setAdrs((current) => [...current.filter((a) => !loaded.some((l) => l.name === a.name)), ...loaded].sort((a, b) => a.name.localeCompare(b.name)));
  }

  function onUrlSubmit(event: FormEvent) {
    event.preventDefault();
    if (url.trim()) void loadUrl(url.trim());
  }

  return (
    <div className="report-viewer">
      <section className="card" aria-labelledby={`${id}-h`}>
        <h2 id={`${id}-h`}>Report viewer</h2>
        <p className="muted">
          Open the <code>comparison.json</code> written by <code>pnpm compare</code> and the ADRs written by <code>pnpm decide</code>. Files stay in this
          browser.
        </p>
        <div className="loaders">
          <div className="column">
            <label htmlFor={`${id}-file`}>Comparison file (comparison.json)</label>
            <input id={`${id}-file`} type="file" accept=".json,application/json" onChange={(e) => void onComparisonFile(e)} />
          </div>
          <form className="column" onSubmit={onUrlSubmit}>
            <label htmlFor={`${id}-url`}>…or its URL</label>
            <div className="row">
              <input id={`${id}-url`} type="text" inputMode="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="/sample-comparison.json" />
              <button type="submit" disabled={loading}>
                {loading ? 'Loading…' : 'Load'}
              </button>
              <button type="button" onClick={() => void loadUrl('/sample-comparison.json')}>
                Load the sample
              </button>
            </div>
          </form>
          <div className="column">
            <label htmlFor={`${id}-adr`}>ADR files (markdown)</label>
            <input id={`${id}-adr`} type="file" accept=".md,.markdown,text/markdown,text/plain" multiple onChange={(e) => void onAdrFiles(e)} />
          </div>
        </div>
        {error && (
          <p className="problem" role="alert" data-testid="report-error">
            <strong>This report cannot be shown.</strong> {error}
          </p>
        )}
        {comparison && (
          <p className="muted" aria-live="polite">
            Showing <code>{comparison.source}</code>.
          </p>
        )}
      </section>
      {comparison && <ComparisonView comparison={comparison.data} />}
      {adrs.map((adr) => (
        <article key={adr.name} className="card adr" aria-label={`ADR ${adr.name}`}>
          <p className="muted small">
            <code>{adr.name}</code>
          </p>
          {renderMarkdown(adr.text)}
        </article>
      ))}
    </div>
  );
}
