import { z } from 'zod';

/**
 * What `GET /config.json` tells the app: the backends it may talk to (each proxied at
 * `/api/<id>/`) and whether the server mints demo-customer tokens at `POST /dev/token`.
 * Shared by the browser app and the Node server so both agree on the shape.
 */
/**
 * A backend's id: the topology name the console's server was given (`monolith`, `microservices`,
 * `hybrid`, `serverless` …), so a new topology appears without a change here.
 */
export const BackendId = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'a backend id is 1 to 40 lower-case letters, digits or "-", starting with a letter');
export type BackendId = z.infer<typeof BackendId>;

export const FrontendConfig = z.object({
  backends: z.array(z.object({ id: BackendId, label: z.string(), description: z.string() })),
  devLogin: z.boolean(),
});
export type FrontendConfig = z.infer<typeof FrontendConfig>;

const BACKEND_LABELS: Record<string, { label: string; description: string }> = {
  monolith: { label: 'Modular monolith', description: 'One process, one database, one transaction per order step.' },
  microservices: {
    label: 'Microservices',
    description: 'Gateway plus inventory, orders, payments and shipping services; a saga places each order.',
  },
  hybrid: { label: 'Hybrid', description: 'Catalog, orders and payments in one core process; shipping extracted as a service.' },
  serverless: { label: 'Serverless', description: 'Workers on workerd: an API worker, queue consumers for payment and shipping, D1.' },
};

/**
 * Label and description of a backend; an id without an entry above (a topology added later) is
 * shown by its name.
 * @example backendLabel('hybrid').label // 'Hybrid'
 */
export function backendLabel(id: string): { label: string; description: string } {
  return BACKEND_LABELS[id] ?? { label: id, description: `The ${id} topology.` };
}

/** Demo customer ids: short and URL-safe, so they are safe to put in a token subject. */
export const DevTokenRequest = z.strictObject({
  customerId: z.string({ error: 'customerId must be a string' }).regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1 to 64 letters, digits, "-" or "_"'),
});
export type DevTokenRequest = z.infer<typeof DevTokenRequest>;

export const DevTokenResponse = z.object({ token: z.string(), customerId: z.string(), expiresAt: z.string() });
export type DevTokenResponse = z.infer<typeof DevTokenResponse>;
