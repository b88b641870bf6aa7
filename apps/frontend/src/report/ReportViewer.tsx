import { useCallback, useEffect, useId, useRef, useState } from 'react';
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

/** The browser's fetch, looked up at call time (so a test may replace it). Module-level: one function for every render. */
const defaultFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

/**
 * Loads a comparison.json (file, URL, or ?report=...) and ADR markdown files, and shows them.
 * A URL load starts when `initialUrl` changes (not when `fetch` does), and only the latest load
 * counts: a newer URL or a picked file aborts the older load and its answer is ignored.
 */
export function ReportViewer({ initialUrl, fetch = defaultFetch }: { initialUrl?: string | null; fetch?: FetchLike }) {
  const [comparison, setComparison] = useState<{ data: Comparison; source: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [url, setUrl] = useState(initialUrl ?? '');
  const [adrs, setAdrs] = useState<Adr[]>([]);
  const [loading, setLoading] = useState(false);
  const id = useId();
  // The latest fetch, read when a load starts: a new fetch prop must not start a load itself.
  const fetchRef = useRef(fetch);
  useEffect(() => {
    fetchRef.current = fetch;
  }, [fetch]);
  // The current load (URL or file); starting another one aborts it and makes its answer stale.
  const current = useRef<{ controller: AbortController } | null>(null);

  /** Starts a load: the previous one is aborted and can no longer change the state. */
  const begin = useCallback(() => {
    current.current?.controller.abort();
    const load = { controller: new AbortController() };
    current.current = load;
    return { signal: load.controller.signal, isCurrent: () => current.current === load };
  }, []);

  /** Shows the comparison, or the error alone: never a message beside an older report. */
  const accept = useCallback((text: string, source: string) => {
    const result = readComparison(text, source);
    if (result.ok) {
      setComparison({ data: result.comparison, source });
      setError(null);
    } else {
      setComparison(null);
      setError(result.message);
    }
  }, []);

  const loadUrl = useCallback(
    async (target: string) => {
      const load = begin();
      setLoading(true);
      setError(null);
      try {
        const response = await fetchRef.current(target, { signal: load.signal });
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
        const text = await response.text();
        if (load.isCurrent()) accept(text, target);
      } catch (e) {
        if (load.isCurrent()) {
          setComparison(null);
          setError(`could not load ${target}: ${e instanceof Error ? e.message : String(e)}`);
        }
      } finally {
        if (load.isCurrent()) setLoading(false);
      }
    },
    [accept, begin],
  );

  useEffect(() => {
    if (!initialUrl) return;
    void loadUrl(initialUrl);
    // Unmounted or given another URL: whatever load is running is no longer wanted.
    return () => {
      current.current?.controller.abort();
      current.current = null;
    };
  }, [initialUrl, loadUrl]);

  async function onComparisonFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (!file) return;
    const load = begin();
    setLoading(false);
    let text: string;
    try {
      text = await readText(file);
    } catch (e) {
      if (load.isCurrent()) {
        setComparison(null);
        setError(`could not read ${file.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
    if (load.isCurrent()) accept(text, file.name);
  }

  async function onAdrFiles(event: ChangeEvent<HTMLInputElement>) {
    const files = [...(event.target.files ?? [])];
    const loaded = await Promise.all(files.map(async (file) => ({ name: file.name, text: await readText(file) })));
    setAdrs((current) => [...current.filter((a) => !loaded.some((l) => l.name === a.name)), ...loaded].sort((a, b) => a.name.localeCompare(b.name)));
  }

  function onUrlSubmit(event: FormEvent) {
    event.preventDefault();
    if (!loading && url.trim()) void loadUrl(url.trim());
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
              {/* aria-disabled, not disabled, while loading: a disabled button would drop keyboard focus to <body>. */}
              <button type="submit" aria-disabled={loading || undefined}>
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
