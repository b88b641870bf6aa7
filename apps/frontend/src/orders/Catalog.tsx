import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { Ref } from 'react';
import type { Product } from '@archbench/contracts/schemas';
import type { ApiClient } from '../api/client';
import { ApiError } from '../api/problem';
import type { ProblemInfo } from '../api/problem';
import { ProblemView } from '../ui/ProblemView';
import { ScrollTable, num } from '../ui/Table';
import { formatEuros } from '../ui/format';
import { useSettled } from '../ui/use-settled';

const SHOWN = 200;
const COLUMNS = ['SKU', 'Name', num('Price'), num('Stock'), { label: <span className="visually-hidden">Actions</span>, num: false }];

/** Filters loaded products by SKU or name, case-insensitively; every word must match. */
function filterProducts(products: readonly Product[], query: string): Product[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...products];
  return products.filter((p) => {
    const hay = `${p.sku} ${p.name}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Browse and search the catalog of the selected backend, page by page. */
export function Catalog({
  api,
  onAdd,
  onSkipToCart,
  headingRef,
}: {
  api: ApiClient;
  onAdd: (product: Product) => void;
  onSkipToCart: () => void;
  /** Receives the catalog heading, so the console can move keyboard focus to the catalog. */
  headingRef?: Ref<HTMLHeadingElement>;
}) {
  const [products, setProducts] = useState<Product[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<ProblemInfo | null>(null);
  const [query, setQuery] = useState('');
  const searchId = useId();
  /** Aborted when the backend or customer changes: every request for the current catalog uses its signal. */
  const catalogLoad = useRef<AbortController | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    catalogLoad.current = controller;
    setProducts([]);
    setCursor(null);
    setLoading(true);
    setProblem(null);
    api
      .listProducts(null, 100, controller.signal)
      .then((page) => {
        setProducts(page.items);
        setCursor(page.nextCursor);
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted)
          setProblem(error instanceof ApiError ? error.problem : { title: 'Could not load the catalog', detail: String(error), status: 0, code: 'unknown' });
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [api]);

  // A page or look-up of the previous backend is dropped (and its request aborted) once the
  // backend changed: appended to the new one's list, its cursor would then be sent to the new one.
  async function loadMore() {
    const signal = catalogLoad.current?.signal;
    if (loading || !cursor || !signal || signal.aborted) return;
    setLoading(true);
    try {
      const page = await api.listProducts(cursor, 100, signal);
      if (signal.aborted) return;
      setProducts((current) => [...current, ...page.items]);
      setCursor(page.nextCursor);
    } catch (error) {
      if (signal.aborted) return;
      setProblem(error instanceof ApiError ? error.problem : { title: 'Could not load more products', detail: String(error), status: 0, code: 'unknown' });
    } finally {
      if (!signal.aborted) setLoading(false);
    }
  }

  async function lookUp(sku: string) {
    const signal = catalogLoad.current?.signal;
    if (!signal || signal.aborted) return;
    setProblem(null);
    try {
      const product = await api.getProduct(sku, signal);
      if (signal.aborted) return;
      setProducts((current) => (current.some((p) => p.sku === product.sku) ? current : [...current, product]));
    } catch (error) {
      if (signal.aborted) return;
      setProblem(error instanceof ApiError ? error.problem : { title: 'Lookup failed', detail: String(error), status: 0, code: 'unknown' });
    }
  }

  const matches = useMemo(() => filterProducts(products, query), [products, query]);
  const skuQuery = /^sku-\d{4}$/i.test(query.trim()) ? query.trim().toUpperCase() : null;
  const count = loading ? 'Loading products…' : `${matches.length} of ${products.length} loaded products match${cursor ? ' (more can be loaded)' : ''}.`;
  // Shown at once, but spoken once typing (or loading) pauses: not a count per keystroke.
  const spokenCount = useSettled(count);

  return (
    <section className="card catalog" aria-labelledby={`${searchId}-h`}>
      <h2 id={`${searchId}-h`} ref={headingRef} tabIndex={-1}>
        Catalog
      </h2>
      <div className="row">
        <label htmlFor={searchId}>Search by SKU or name</label>
        <input id={searchId} type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="e.g. kettle or SKU-0042" />
        <button type="button" className="link-button" onClick={onSkipToCart}>
          Skip the product list to the cart
        </button>
        {skuQuery && matches.length === 0 && (
          <button type="button" onClick={() => void lookUp(skuQuery)}>
            Look up {skuQuery}
          </button>
        )}
      </div>
      <p className="muted" aria-hidden="true" data-testid="catalog-count">
        {count}
      </p>
      <p className="visually-hidden" aria-live="polite" data-testid="catalog-count-spoken">
        {spokenCount}
      </p>
      {problem && <ProblemView problem={problem} onDismiss={() => setProblem(null)} />}
      <ScrollTable label="Products" columns={COLUMNS}>
        {matches.slice(0, SHOWN).map((p) => (
          <tr key={p.sku} data-sku={p.sku}>
            <td>
              <code>{p.sku}</code>
            </td>
            <td>{p.name}</td>
            <td className="num">{formatEuros(p.priceCents)}</td>
            <td className="num">{p.stock}</td>
            <td>
              <button type="button" onClick={() => onAdd(p)} aria-label={`Add ${p.sku} ${p.name} to cart`}>
                Add
              </button>
            </td>
          </tr>
        ))}
      </ScrollTable>
      {matches.length > SHOWN && <p className="muted">Showing the first {SHOWN}; refine the search to see others.</p>}
      {cursor && (
        // aria-disabled, not disabled, while a page loads: a disabled button would drop keyboard focus to <body>.
        <button type="button" onClick={() => void loadMore()} aria-disabled={loading || undefined}>
          Load more products
        </button>
      )}
    </section>
  );
}
