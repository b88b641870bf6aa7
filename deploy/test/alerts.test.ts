import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMPOSE_DIR } from '../src/compose';
import { ALERTS_FILE, alertRules, labelUses, metricNames, yieldsSeries } from '../src/dashboards';

/**
 * The compose stack's alert rules (prometheus/alerts.yaml): Prometheus loads them, and each is a
 * rule an operator can act on. That every metric and label a rule reads exists on the servers'
 * real /metrics is checked where the servers run, in dashboards.test.ts.
 */
const prometheus = parse(readFileSync(join(COMPOSE_DIR, 'prometheus/prometheus.yaml'), 'utf8')) as { rule_files?: string[] };
const rules = alertRules();

describe('alert rules (prometheus/alerts.yaml)', () => {
  it('prometheus.yaml loads the rules file', () => {
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yaml']);
    for (const file of prometheus.rule_files!) expect(existsSync(join(COMPOSE_DIR, 'prometheus', basename(file))), file).toBe(true);
    expect(basename(ALERTS_FILE)).toBe('alerts.yaml');
  });

  it('every group is named and every rule is an alert with a readable expression, a severity, a summary and a description', () => {
    const groups = (parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { name?: string; rules?: unknown[] }[] }).groups;
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) {
      expect(group.name).toMatch(/^[\w-]+$/);
      expect(group.rules?.length, group.name).toBeGreaterThan(0);
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(metricNames(rule.expr).length, rule.alert).toBeGreaterThan(0);
      // The series check reads the expression (it throws on one it cannot read).
      expect(() => yieldsSeries(rule.expr, []), rule.alert).not.toThrow();
      if (rule.for !== undefined) expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it('SagaCompensationStuck fires on a compensating state older than 5 minutes, per topology and state, never on one that is not compensating', () => {
    const { expr } = rules.find((r) => r.alert === 'SagaCompensationStuck')!;
    expect(metricNames(expr)).toEqual(['archbench_saga_oldest_open_seconds']);
    expect(expr).toMatch(/\) > 300$/);
    expect(labelUses(expr).map((u) => u.label)).toEqual(['state', 'topology', 'state']);
    const age = (state: string) => [{ name: 'archbench_saga_oldest_open_seconds', labels: { service: 'orders', state } }];
    for (const state of ['ABORTING', 'RELEASING', 'EXPIRING', 'CANCELLING']) expect(yieldsSeries(expr, age(state)), state).toBe(true);
    // PAYING ends by the saga's deadline, RESERVING with its POST: neither is a compensation.
    for (const state of ['PAYING', 'RESERVING']) expect(yieldsSeries(expr, age(state)), state).toBe(false);
  });

  it("RefundStuck fires on a refund pending for over 5 minutes (ten 30 s retries), per topology, on the monolith's, hybrid core's and microservices' payments gauge", () => {
    const { expr } = rules.find((r) => r.alert === 'RefundStuck')!;
    expect(metricNames(expr)).toEqual(['archbench_refund_oldest_pending_seconds']);
    expect(expr).toMatch(/\) > 300$/);
    expect(labelUses(expr).map((u) => u.label)).toEqual(['topology']);
    for (const [topology, service] of [
      ['monolith', 'monolith'],
      ['hybrid', 'core'],
      ['microservices-http', 'payments'],
      ['microservices-amqp', 'payments'],
    ] as const)
      expect(yieldsSeries(expr, [{ name: 'archbench_refund_oldest_pending_seconds', labels: { topology, service } }]), topology).toBe(true);
    // The counter of failed tries is no age: it does not say whether the refund was made since.
    expect(yieldsSeries(expr, [{ name: 'archbench_payments_total', labels: { service: 'monolith', result: 'refund_failed' } }])).toBe(false);
  });

  it('ScrapeGaugeUnreadable fires when a gauge read at scrape time failed at every scrape for 5 minutes, per gauge and process', () => {
    const { expr } = rules.find((r) => r.alert === 'ScrapeGaugeUnreadable')!;
    expect(metricNames(expr)).toEqual(['archbench_scrape_read_ok']);
    const rule = rules.find((r) => r.alert === 'ScrapeGaugeUnreadable')!;
    // A `for`, not a 5-minute window over the samples: a new series with one 0 would fire at once.
    expect(expr).toBe('archbench_scrape_read_ok == 0');
    expect(rule.for).toBe('5m');
    for (const gauge of ['archbench_saga_oldest_open_seconds', 'archbench_refund_oldest_pending_seconds'])
      expect(yieldsSeries(expr, [{ name: 'archbench_scrape_read_ok', labels: { service: 'orders', gauge } }]), gauge).toBe(true);
  });
});
