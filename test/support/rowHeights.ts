import type { Page } from 'playwright-core';

/**
 * How much taller a table's tallest row is than its shortest, in CSS pixels: 0 (±1) when no cell wraps, as a grid
 * meant to scroll sideways on a phone should be, rather than break a time or a share over two lines.
 */
export async function rowHeightSpread(page: Page, table: string): Promise<number> {
  const heights = await page
    .locator(`${table} tr`)
    .evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
  return Math.max(...heights) - Math.min(...heights);
}
