/** One synthetic order of the lab; `haystack` is the lower-cased text the filter searches. */
export interface LabOrder {
  id: string;
  customer: string;
  city: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
  items: number;
  totalCents: number;
  sku: string;
  seed: number;
  haystack: string;
}

const FIRST = [
  'alice',
  'bob',
  'chloe',
  'dmitri',
  'emma',
  'farid',
  'grace',
  'hiro',
  'ines',
  'jonas',
  'kemal',
  'lena',
  'mateo',
  'nora',
  'oskar',
  'priya',
  'quinn',
  'rosa',
  'sven',
  'tariq',
  'ula',
  'viktor',
  'wen',
  'ximena',
  'yusuf',
  'zoe',
];
const CITIES = [
  'Amsterdam',
  'Berlin',
  'Copenhagen',
  'Dublin',
  'Edinburgh',
  'Florence',
  'Geneva',
  'Helsinki',
  'Istanbul',
  'Lisbon',
  'Madrid',
  'Oslo',
  'Prague',
  'Riga',
  'Vienna',
  'Warsaw',
];
const STATUSES: LabOrder['status'][] = ['CONFIRMED', 'CONFIRMED', 'CONFIRMED', 'PENDING', 'REJECTED', 'CANCELLED'];

/** Small deterministic PRNG (mulberry32) so every run filters the same data. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Generates `count` orders deterministically from `seed`.
 * @example generateOrders(20_000).length // 20000
 */
export function generateOrders(count: number, seed = 42): LabOrder[] {
  const random = mulberry32(seed);
  const orders: LabOrder[] = [];
  for (let i = 0; i < count; i++) {
    const customer = `${FIRST[Math.floor(random() * FIRST.length)]}-${Math.floor(random() * 900) + 100}`;
    const city = CITIES[Math.floor(random() * CITIES.length)]!;
    const status = STATUSES[Math.floor(random() * STATUSES.length)]!;
    const items = 1 + Math.floor(random() * 9);
    const totalCents = items * (199 + Math.floor(random() * 25_000));
    const sku = `SKU-${String(Math.floor(random() * 1000)).padStart(4, '0')}`;
    const id = `ord-${String(i + 1).padStart(5, '0')}`;
    orders.push({
      id,
      customer,
      city,
      status,
      items,
      totalCents,
      sku,
      seed: Math.floor(random() * 2 ** 31),
      haystack: `${id} ${customer} ${city} ${status} ${sku}`.toLowerCase(),
    });
  }
  return orders;
}

/** Orders whose text contains every word of the query (case-insensitive). */
export function filterOrders(orders: readonly LabOrder[], query: string): LabOrder[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return orders as LabOrder[];
  return orders.filter((o) => words.every((w) => o.haystack.includes(w)));
}
