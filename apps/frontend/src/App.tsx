import { useEffect, useState } from 'react';
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

function viewFromLocation(): View {
  const hash = globalThis.location?.hash.replace(/^#\/?/, '') ?? '';
  if (hash === 'lab' || hash === 'report' || hash === 'orders') return hash;
  return new URLSearchParams(globalThis.location?.search ?? '').has('report') ? 'report' : 'orders';
}

/** The app shell: three views addressed by the URL hash (#/orders, #/lab, #/report). */
export function App({ fetch }: { fetch?: FetchLike }) {
  const [view, setView] = useState<View>(viewFromLocation);
  const [config, setConfig] = useState<FrontendConfig | null>(null);
  const [configProblem, setConfigProblem] = useState<ProblemInfo | null>(null);
  const reportUrl = new URLSearchParams(globalThis.location?.search ?? '').get('report');

  useEffect(() => {
    const onHash = () => setView(viewFromLocation());
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
      <a className="skip-link" href="#main">
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
      <main id="main" tabIndex={-1}>
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
