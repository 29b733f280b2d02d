import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** axe-core's own script, evaluated in the page: the page's CSP refuses inline scripts, which CDP's evaluate is not. */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * What axe-core finds on the page as it is now, in both colour schemes the style has: each violation's impact,
 * rule and the elements it names. Every rule axe has runs (best practices included), not only serious ones.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const found: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const result = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(): Promise<AxeResult> } }).axe;
      const { violations, passes } = await axe.run();
      return { violations, passes: passes.map((p) => p.id) };
    });
    // The checks that matter most here did run: an empty list means they passed, not that nothing was looked at.
    expect(result.passes).toEqual(expect.arrayContaining(['color-contrast', 'label', 'button-name']));
    for (const v of result.violations) {
      found.push(
        `${colorScheme} ${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      );
    }
  }
  await page.emulateMedia({ colorScheme: null });
  return found;
}
interface AxeResult {
  violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  passes: { id: string }[];
}
