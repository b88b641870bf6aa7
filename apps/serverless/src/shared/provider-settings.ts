import type { D1Database } from '@cloudflare/workers-types';
import { ProviderSettingsPatch } from '@archbench/contracts/schemas';
import type { PaymentProviderOptions } from '@archbench/domain/payment-provider';
import { numberVar } from './bindings';

export type ProviderSettings = Required<Pick<PaymentProviderOptions, 'latencyMs' | 'slowMs' | 'failureRate'>>;

/** The row in `meta` that holds the run-time overrides (a JSON object; absent = the vars apply; `DELETE /admin/payments/provider` removes it). */
const PROVIDER_SETTINGS_KEY = 'payment_provider';

/** The provider settings the deployment was configured with (`vars`), before any override. */
export function providerDefaults(vars: { PAYMENT_LATENCY_MS?: string; PAYMENT_SLOW_MS?: string; PAYMENT_FAILURE_RATE?: string }): ProviderSettings {
  return {
    latencyMs: numberVar(vars.PAYMENT_LATENCY_MS, 0),
    slowMs: numberVar(vars.PAYMENT_SLOW_MS, 1500),
    failureRate: numberVar(vars.PAYMENT_FAILURE_RATE, 0),
  };
}

function overrides(value: string | null | undefined): ProviderSettingsPatch {
  if (!value) return {};
  // A row that no longer parses (hand-edited) must not stop payments: the vars apply then.
  const parsed = ProviderSettingsPatch.safeParse(JSON.parse(value));
  return parsed.success ? parsed.data : {};
}

export interface StoredProviderSettings {
  /** The settings in force: the vars, overridden by what was switched at run time. */
  provider: ProviderSettings;
}

/**
 * The settings in force: the vars, overridden by the D1 row. In D1 rather than in an isolate's
 * memory because the API worker that takes the switch shares no memory with the payment step's
 * isolates (on Cloudflare, many of them, anywhere).
 */
export async function readProviderSettings(db: D1Database, defaults: ProviderSettings): Promise<StoredProviderSettings> {
  const row = await db.prepare('SELECT value FROM meta WHERE key = ?1').bind(PROVIDER_SETTINGS_KEY).first<{ value: string }>();
  return { provider: { ...defaults, ...overrides(row?.value) } };
}

/** Merges a patch into the D1 row in one statement (json_patch), so concurrent switches cannot lose each other's fields. */
export async function writeProviderSettings(db: D1Database, patch: ProviderSettingsPatch, defaults: ProviderSettings): Promise<StoredProviderSettings> {
  const row = await db
    .prepare('INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = json_patch(meta.value, excluded.value) RETURNING value')
    .bind(PROVIDER_SETTINGS_KEY, JSON.stringify(patch))
    .first<{ value: string }>();
  return { provider: { ...defaults, ...overrides(row?.value) } };
}

/**
 * Drops the run-time overrides (the D1 row), so the deployment's vars apply again (a changed var
 * too, from the next read on); answers the settings now in force.
 */
export async function clearProviderSettings(db: D1Database, defaults: ProviderSettings): Promise<StoredProviderSettings> {
  await db.prepare('DELETE FROM meta WHERE key = ?1').bind(PROVIDER_SETTINGS_KEY).run();
  return { provider: { ...defaults } };
}
