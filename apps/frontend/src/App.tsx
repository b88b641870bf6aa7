import { useEffect, useRef, useState } from 'react';
import { loadConfig } from './api/client';
import type { FetchLike } from './api/client';
import type { FrontendConfig } from './api/config-schema';
import { ApiError } from './api/problem';
import type { ProblemInfo } from './api/problem';
import { Lab } from './lab/Lab';
import { OrderConsole } from './orders/OrderConsole';
import { ReportViewer } from './report/ReportViewer';
import { ProblemView } from './ui/ProblemView';

export type View = 'orders' | 'lab' | 'report';

const VIEWS: { id: View; label: string }[] = [
  { id: 'orders', label: 'Order console' },
  { id: 'lab', label: 'Concurrency lab' },
  { id: 'report', label: 'Report viewer' },
];

/**
 * The view a URL hash names: `#/lab` → 'lab'; null for no hash (or `#`, `#/`); undefined for any
 * other hash, such as an in-document anchor (`#main`), which names no view.
 */
function viewOfHash(hash: string): View | null | undefined {
  const name = hash.replace(/^#\/?/, '');
  if (name === '') return null;
  return VIEWS.find((v) => v.id === name)?.id;
}

/** The view of a URL without a view hash: the report viewer for `?report=`, else the console. */
function defaultView(): View {
  return new URLSearchParams(globalThis.location?.search ?? '').has('report') ? 'report' : 'orders';
}

function viewFromLocation(): View {
  return viewOfHash(globalThis.location?.hash ?? '') ?? defaultView();
}

/** The app shell: three views addressed by the URL hash (#/orders, #/lab, #/report). */
export function App({ fetch }: { fetch?: FetchLike }) {
  const [view, setView] = useState<View>(viewFromLocation);
  const [config, setConfig] = useState<FrontendConfig | null>(null);
  const [configProblem, setConfigProblem] = useState<ProblemInfo | null>(null);
  const mainRef = useRef<HTMLElement>(null);
  const reportUrl = new URLSearchParams(globalThis.location?.search ?? '').get('report');

  useEffect(() => {
    // A hash that names no view (an in-document anchor) keeps the current view and its state.
    const onHash = () => {
      const named = viewOfHash(globalThis.location.hash);
      if (named !== undefined) setView(named ?? defaultView());
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    loadConfig(fetch)
      .then(setConfig)
      .catch((error: unknown) =>
        setConfigProblem(
          error instanceof ApiError ? error.problem : { title: 'Could not load /config.json', detail: String(error), status: 0, code: 'unknown' },
        ),
      );
  }, [fetch]);

  useEffect(() => {
    document.title = `${VIEWS.find((v) => v.id === view)!.label} · archbench`;
  }, [view]);

  return (
    <>
      {/* Moves focus to <main> without touching the URL hash (the hash addresses the views); the href is the fallback. */}
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          mainRef.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="app-header">
        <h1>
          archbench <span className="muted">order console</span>
        </h1>
        <nav aria-label="Views">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} aria-current={view === v.id ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1} ref={mainRef}>
        {view === 'orders' &&
          (config && config.backends.length === 0 ? (
            <p className="card">
              The console's server has no backend configured (BACKENDS is empty, MONOLITH_URL and MICROSERVICES_URL are off). The concurrency lab and the report
              viewer still work.
            </p>
          ) : config ? (
            <OrderConsole config={config} fetch={fetch} />
          ) : configProblem ? (
            <ProblemView problem={configProblem} />
          ) : (
            <p aria-live="polite">Loading configuration…</p>
          ))}
        {view === 'lab' && <Lab />}
        {view === 'report' && <ReportViewer initialUrl={reportUrl} fetch={fetch} />}
      </main>
    </>
  );
}
