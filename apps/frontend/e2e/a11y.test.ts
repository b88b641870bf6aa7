import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { FRONTEND_DIR, SCREENSHOT_DIR, serverAndBrowser, startStack } from './helpers';

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const e2e = serverAndBrowser(() => startStack({ microservices: false }));

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page; returns the serious and critical violations, readably. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE_PATH });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Presses Tab until the focused element matches, as a keyboard user would. */
async function tabTo(page: Page, describe: string, matches: (el: Element) => boolean, maxTabs = 60, key = 'Tab') {
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press(key);
    const found = await page.evaluate((src) => {
      const el = document.activeElement;
      return el ? (new Function('el', `return (${src})(el)`) as (e: Element) => boolean)(el) : false;
    }, matches.toString());
    if (found) return;
  }
  throw new Error(`could not reach ${describe} with ${maxTabs} presses of Tab`);
}

/**
 * Records every text added to a live region (what a screen reader would speak), from the first
 * paint on; call before page.goto. Returns a function that gives what was said since its last call.
 */
async function recordLiveRegions(page: Page): Promise<() => Promise<{ region: string; text: string }[]>> {
  await page.addInitScript(() => {
    const spoken: { region: string; text: string }[] = [];
    (window as unknown as { spoken: typeof spoken }).spoken = spoken;
    const LIVE = '[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"]';
    new MutationObserver((records) => {
      for (const record of records) {
        const nodes = record.type === 'characterData' ? [record.target] : [...record.addedNodes];
        for (const node of nodes) {
          const element = node instanceof Element ? node : node.parentElement;
          const region = element?.closest(LIVE);
          if (region && node.textContent?.trim())
            spoken.push({ region: region.getAttribute('data-testid') ?? region.getAttribute('role') ?? 'aria-live', text: node.textContent.trim() });
        }
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { spoken: { region: string; text: string }[] }).spoken.splice(0));
}

describe('keyboard use and accessibility of the main screens', () => {
  it('runs the order flow with the keyboard alone, and axe finds nothing serious', async () => {
    const page = await e2e.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${e2e.server.frontendUrl}/#/orders`);
    await page.getByLabel('Demo customer id').waitFor();

    await tabTo(page, 'the customer id field', (el) => el.getAttribute('name') === 'customerId');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('keyboard-user');
    await page.keyboard.press('Enter');
    await page.getByTestId('signed-in-as').waitFor();
    // The sign-in form is gone: focus went on to the catalog heading, not to <body>.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Catalog');
    await page.getByRole('button', { name: /^Add SKU-0001 / }).waitFor();

    await tabTo(page, 'the first Add button', (el) => (el.getAttribute('aria-label') ?? '').startsWith('Add SKU-0000'));
    await page.keyboard.press('Enter');
    // Said once the adds stop (use-settled's ANNOUNCE_AFTER_MS), not at each press.
    await page.waitForFunction(() => /^Cart: 1 item, total €[\d.,]+\.$/.test(document.querySelector('[data-testid="announcer"]')?.textContent ?? ''));
    // A hundred Add buttons lie between the catalog and the cart: the skip button jumps them.
    await tabTo(page, 'the skip-to-cart button', (el) => el.textContent === 'Skip the product list to the cart', 5, 'Shift+Tab');
    await page.keyboard.press('Enter');
    await tabTo(page, 'the Place order button', (el) => el.textContent === 'Place order', 12);
    await page.keyboard.press('Enter');
    await page.locator('li.order[data-status="CONFIRMED"]').waitFor({ timeout: 30_000 });
    // The ordered line left the cart: focus is on the new order, not on <body>.
    expect(await page.evaluate(() => document.activeElement?.matches('li.order'))).toBe(true);

    await page.screenshot({ path: join(SCREENSHOT_DIR, 'orders.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('moves between views from the navigation by keyboard; the lab and report viewer pass axe', async () => {
    const page = await e2e.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${e2e.server.frontendUrl}/`);
    await page.getByRole('navigation', { name: 'Views' }).waitFor();

    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');

    await tabTo(page, 'the Concurrency lab link', (el) => el.textContent === 'Concurrency lab');
    await page.keyboard.press('Enter');
    await page.getByTestId('lab-filter').waitFor();
    expect(await page.title()).toBe('Concurrency lab · archbench');
    // Mode radios are one tab stop; arrow keys move between them.
    await tabTo(page, 'the mode radios', (el) => el.getAttribute('data-testid') === 'lab-mode-urgent');
    await page.keyboard.press('ArrowRight');
    expect(await page.getByTestId('lab-mode-transition').isChecked()).toBe(true);
    await page.getByTestId('lab-filter').fill('berlin');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'lab.png'), fullPage: false });
    expect(await seriousViolations(page)).toEqual([]);

    await tabTo(page, 'the Report viewer link', (el) => el.textContent === 'Report viewer');
    await page.keyboard.press('Enter');
    await tabTo(page, 'the Load the sample button', (el) => el.textContent === 'Load the sample');
    await page.keyboard.press('Enter');
    await page.getByTestId('comparison').waitFor();
    expect(await page.getByTestId('cpu-ratio-microservices-http').textContent()).toBe('2.75× monolith');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'report.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('live regions speak once after a burst of adds or keystrokes, and the lab says nothing while typing', async () => {
    const page = await e2e.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const said = await recordLiveRegions(page);
    await page.goto(`${e2e.server.frontendUrl}/#/orders`);
    await page.getByLabel('Demo customer id').fill('live-regions');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-as').waitFor();
    await page.getByRole('button', { name: /^Add SKU-0001 / }).waitFor();
    await page.waitForTimeout(2500);
    await said();

    for (const sku of ['SKU-0001', 'SKU-0001', 'SKU-0002', 'SKU-0001']) await page.getByRole('button', { name: new RegExp(`^Add ${sku} `) }).click();
    await page.waitForTimeout(2500);
    const afterAdds = await said();
    expect(afterAdds.filter((s) => s.region === 'announcer')).toEqual([
      { region: 'announcer', text: expect.stringMatching(/^Cart: 4 items, total €[\d.,]+\.$/) },
    ]);
    expect(afterAdds).toHaveLength(1);

    await page.getByLabel('Search by SKU or name').pressSequentially('kettle', { delay: 120 });
    await page.waitForTimeout(2500);
    const afterTyping = await said();
    expect(afterTyping).toEqual([{ region: 'catalog-count-spoken', text: expect.stringMatching(/^\d+ of \d+ loaded products match/) }]);

    await page.goto(`${e2e.server.frontendUrl}/#/lab`);
    await page.getByTestId('lab-mode-transition').check();
    await said();
    await page.getByTestId('lab-filter').pressSequentially('alice berlin', { delay: 60 });
    await page.waitForTimeout(1500);
    // The list updates in a transition ("Updating the list…" shows and goes) without a word spoken per keystroke.
    expect(await said()).toEqual([]);
    await page.close();
  });

  it('says once that the browser refused to store the cart, when that notice appears', async () => {
    const page = await e2e.browser.newPage({ viewport: { width: 1280, height: 900 } });
    // A full sessionStorage: writes of the cart throw as Chromium's do at the quota.
    await page.addInitScript(() => {
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function (key: string, value: string) {
        if (this === window.sessionStorage && key === 'archbench.cart') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        setItem.call(this, key, value);
      };
    });
    const said = await recordLiveRegions(page);
    await page.goto(`${e2e.server.frontendUrl}/#/orders`);
    await page.getByLabel('Demo customer id').fill('storage-full');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: /^Add SKU-0001 / }).waitFor();
    await page.waitForTimeout(1500);
    await said();

    await page.getByRole('button', { name: /^Add SKU-0001 / }).click();
    await page.getByTestId('cart-not-stored').waitFor();
    await page.getByRole('button', { name: /^Add SKU-0002 / }).click();
    await page.getByRole('radio', { name: /Declined card/ }).check();
    await page.waitForTimeout(2500);
    const notices = (await said()).filter((s) => s.region === 'cart-storage-status');
    expect(notices).toEqual([{ region: 'cart-storage-status', text: expect.stringMatching(/^This browser refused to store the cart /) }]);
    await page.close();
  });

  it('the axe check itself reports an unlabelled field (so a clean result means something)', async () => {
    const page = await e2e.browser.newPage();
    await page.setContent('<!doctype html><html lang="en"><head><title>control</title></head><body><main><input type="text"></main></body></html>');
    expect((await seriousViolations(page)).some((v) => v.includes(' label: '))).toBe(true);
    await page.close();
  });

  it('opens a report from ?report= in the URL', async () => {
    const page = await e2e.browser.newPage();
    await page.goto(`${e2e.server.frontendUrl}/?report=/sample-comparison.json`);
    await page.getByTestId('comparison').waitFor();
    expect(await page.locator('[data-scenario]').evaluateAll((els) => els.map((e) => e.getAttribute('data-scenario')))).toEqual(['browse', 'place-order']);
    // The sample is a version 1 file: read as version 3, its failed requests no longer count as throughput, and the page says so.
    expect(await page.getByRole('note').textContent()).toMatch(/^Older file: written with schema version 1, shown with version 3's meanings/);
    const row = page.locator('[data-scenario="place-order"] tr[data-topology="microservices-http"]');
    expect(await row.getByRole('cell', { name: /^294 req\/s/ }).textContent()).toMatch(/^294 req\/s\* converted to successful requests\/s/);
    expect(await page.getByTestId('throughput-converted-place-order-microservices-http').locator('span[aria-hidden="true"]').isVisible()).toBe(true);
    await page.close();
  });

  it('renders a real measured comparison (pnpm compare --profile quick on this machine) with its ratios', async () => {
    // public/measured-comparison.json is a real run, not an illustration; the expectations are
    // computed from the file so the test holds for any re-measured copy.
    const measured = JSON.parse(readFileSync(join(FRONTEND_DIR, 'public/measured-comparison.json'), 'utf8')) as {
      scenarios: Array<{ scenario: string }>;
      topologies: Array<{ name: string; cpuSecondsPer1kOrders: number | null; peakRssBytes: number }>;
    };
    const page = await e2e.browser.newPage();
    await page.goto(`${e2e.server.frontendUrl}/?report=/measured-comparison.json`);
    await page.getByTestId('comparison').waitFor();
    const scenarios = [...new Set(measured.scenarios.map((s) => s.scenario))];
    expect(await page.locator('[data-scenario]').evaluateAll((els) => els.map((e) => e.getAttribute('data-scenario')))).toEqual(scenarios);
    const mono = measured.topologies.find((t) => t.name === 'monolith')!;
    for (const t of measured.topologies.filter((x) => x.name !== 'monolith')) {
      const ratio = t.peakRssBytes / mono.peakRssBytes;
      expect(await page.getByTestId(`memory-ratio-${t.name}`).textContent()).toBe(`${ratio.toFixed(2)}× monolith`);
    }
    // A version 2 file, measured before rejected orders were told apart: noted, though it failed nothing to convert.
    expect(await page.getByRole('note').textContent()).toMatch(/^Older file: written with schema version 2, .*REJECTED as placed orders/);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'report-measured.png'), fullPage: true });
    await page.close();
  });
});
