/**
 * The deterministic catalog both apps seed: the same SKUs, names, prices and stock every time,
 * so load runs against either topology start from identical data.
 */
export interface SeedProduct {
  sku: string;
  name: string;
  priceCents: number;
  currency: 'EUR';
  stock: number;
}

export const SEED_PRODUCT_COUNT = 1000;
/** Stock of ordinary SKUs: enough for long load runs spread over the catalog. */
export const SEED_STOCK = 100_000;
/**
 * The last SKUs are scarce on purpose (stock 5) so tests can exercise running out of stock.
 * Load workloads pick SKUs below SCARCE_FROM.
 */
export const SCARCE_FROM = 990;
export const SCARCE_STOCK = 5;

const ADJECTIVES = ['Sturdy', 'Compact', 'Classic', 'Smart', 'Recycled', 'Deluxe', 'Portable', 'Quiet', 'Bright', 'Modular'];
const NOUNS = ['Kettle', 'Backpack', 'Lamp', 'Notebook', 'Headphones', 'Mug', 'Chair', 'Bottle', 'Keyboard', 'Umbrella', 'Tent', 'Jacket'];

export function skuOf(index: number): string {
  return `SKU-${String(index).padStart(4, '0')}`;
}

/** The seed catalog, generated from the index alone (no randomness). */
export function seedCatalog(count = SEED_PRODUCT_COUNT): SeedProduct[] {
  const products: SeedProduct[] = [];
  for (let i = 0; i < count; i++) {
    const adjective = ADJECTIVES[i % ADJECTIVES.length]!;
    const noun = NOUNS[Math.floor(i / ADJECTIVES.length) % NOUNS.length]!;
    products.push({
      sku: skuOf(i),
      name: `${adjective} ${noun} ${Math.floor(i / (ADJECTIVES.length * NOUNS.length)) + 1}`,
      priceCents: 199 + ((i * 7919) % 25_000),
      currency: 'EUR',
      stock: i >= SCARCE_FROM ? SCARCE_STOCK : SEED_STOCK,
    });
  }
  return products;
}

/** The seed catalog as `products` rows, in chunks small enough for one multi-row insert each. */
export function seedProductRowChunks(chunkSize = 200): Array<Array<{ sku: string; name: string; price_cents: number; currency: string; stock: number }>> {
  const rows = seedCatalog().map((p) => ({ sku: p.sku, name: p.name, price_cents: p.priceCents, currency: p.currency, stock: p.stock }));
  const chunks = [];
  for (let i = 0; i < rows.length; i += chunkSize) chunks.push(rows.slice(i, i + chunkSize));
  return chunks;
}
