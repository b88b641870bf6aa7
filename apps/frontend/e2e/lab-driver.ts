import type { Page } from 'playwright-core';
import type { LabMode } from '../src/lab/input-delay';

export interface ModeFigures {
  mode: LabMode;
  count: number;
  p50: number;
  p95: number;
  max: number;
  eventTiming: number;
  delays: number[];
}

/** What a person types: words that narrow the list, then deleting them again. */
export const LAB_PHRASE = 'alice berlin';

/** Reads the figures the lab exposes as data attributes on its stats table. */
export async function readFigures(page: Page, mode: LabMode): Promise<ModeFigures> {
  const row = page.locator(`[data-testid="lab-stats"] tr[data-mode="${mode}"]`);
  const attr = async (name: string) => Number((await row.getAttribute(name)) ?? 'NaN');
  const delays = ((await row.getAttribute('data-delays')) ?? '').split(',').filter(Boolean).map(Number);
  return {
    mode,
    count: await attr('data-count'),
    p50: await attr('data-p50'),
    p95: await attr('data-p95'),
    max: await attr('data-max'),
    eventTiming: await attr('data-event-timing'),
    delays,
  };
}

/**
 * Selects a mode, types the phrase key by key at a human pace, deletes it again, waits for the
 * list to settle and returns that mode's measured keystroke-to-paint figures.
 */
export async function typeInMode(page: Page, mode: LabMode, keyDelayMs = 120): Promise<ModeFigures> {
  await page.getByTestId(`lab-mode-${mode}`).check();
  const input = page.getByTestId('lab-filter');
  await input.click();
  await page.keyboard.type(LAB_PHRASE, { delay: keyDelayMs });
  await page.waitForFunction((phrase) => document.querySelector('[data-testid="lab-results"]')?.getAttribute('data-query') === phrase, LAB_PHRASE, {
    timeout: 60_000,
  });
  for (let i = 0; i < LAB_PHRASE.length; i++) {
    await page.keyboard.press('Backspace', { delay: 10 });
    await page.waitForTimeout(keyDelayMs);
  }
  await page.waitForFunction(() => document.querySelector('[data-testid="lab-results"]')?.getAttribute('data-query') === '', undefined, { timeout: 60_000 });
  const expected = LAB_PHRASE.length * 2;
  // Figures are published in batches; wait until every keystroke has its sample.
  await page.waitForFunction(
    ({ m, n }) => Number(document.querySelector(`[data-testid="lab-stats"] tr[data-mode="${m}"]`)?.getAttribute('data-count')) >= n,
    { m: mode, n: expected },
    { timeout: 30_000 },
  );
  await page.waitForTimeout(500);
  return readFigures(page, mode);
}
