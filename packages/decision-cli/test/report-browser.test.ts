import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceFromComparison } from '../src/core/evidence';
import { renderHtmlReport } from '../src/core/report-html';
import { comparisonFixture, comparisonV2Fixture } from './fixtures/comparison';
import { FOURTEEN_TEAMS } from './fixtures/profiles';
import { MODEL_V2 } from '../src/core/model';
import { SMALL_TEAM_MVP } from './fixtures/answers';
import { decisionInput } from './fixtures/decision';
import { tempDir } from './helpers';

// The report opened in real headless Chromium (the system's; browsers are never downloaded) with
// every network request refused: it must render completely from the one file.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(executablePath);
if (!available) process.stderr.write(`skipping the browser test of the HTML report: no Chromium at ${executablePath} (set CHROMIUM_PATH)\n`);

describe.skipIf(!available)('HTML report in headless Chromium, offline', () => {
  let browser: Browser;
  const tmp = tempDir();
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
    tmp.cleanup();
  });

  it('renders every chart and table without a single network request', async () => {
    const evidence = evidenceFromComparison(comparisonFixture(), 'results/comparison.json');
    const d = decisionInput(SMALL_TEAM_MVP, evidence);
    const file = join(tmp.dir, 'report.html');
    writeFileSync(
      file,
      renderHtmlReport({
        title: 'Report',
        date: d.date,
        answers: d.answers,
        result: d.result,
        sensitivity: d.sensitivity,
        evidence,
        model: d.model,
        generator: 'test',
      }),
    );

    const context = await browser.newContext({ offline: true });
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);

    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await expect(page.title()).resolves.toBe('Report');
    const charts = await page.locator('svg').evaluateAll((svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        return { label: svg.getAttribute('aria-label'), width: Math.round(box.width), bars: svg.querySelectorAll('rect').length };
      }),
    );
    expect(charts.map((c) => c.label)).toEqual([
      'Score by criterion group (points of 100)',
      'Latency percentiles: browse',
      'Latency percentiles: checkout',
      'Throughput by scenario',
      'Estimated cost per 1,000 orders',
      'Peak memory (all processes)',
    ]);
    for (const c of charts) {
      expect(c.width).toBeGreaterThan(300);
      expect(c.bars).toBeGreaterThan(1);
    }
    // The two measurement charts per row fit beside each other on a laptop-wide window.
    const boxes = await page.locator('.charts svg').evaluateAll((svgs) => svgs.map((s) => s.getBoundingClientRect().top));
    expect(new Set(boxes.map(Math.round)).size).toBeLessThan(boxes.length);
    await expect(page.locator('table').count()).resolves.toBe(5);
    await context.close();
  });

  it('renders the confidence and fault sections of a version-2 comparison', async () => {
    const evidence = evidenceFromComparison(comparisonV2Fixture(), 'results/comparison.json');
    const d = decisionInput(FOURTEEN_TEAMS, evidence, {}, MODEL_V2);
    const file = join(tmp.dir, 'report-v2.html');
    writeFileSync(
      file,
      renderHtmlReport({
        title: 'Report v2',
        date: d.date,
        answers: d.answers,
        result: d.result,
        sensitivity: d.sensitivity,
        confidence: d.confidence,
        evidence,
        model: d.model,
        generator: 'test',
      }),
    );
    const context = await browser.newContext({ offline: true });
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href);
    await expect(page.locator('h2', { hasText: 'Confidence' }).isVisible()).resolves.toBe(true);
    const fault = page.locator('svg[aria-label="Fault: dependency-crash — availability during the fault"]');
    await expect(fault.count()).resolves.toBe(1);
    const box = await fault.boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    // Five topologies, two series each.
    await expect(fault.locator('rect').count()).resolves.toBeGreaterThanOrEqual(10);
    await context.close();
  });
});
