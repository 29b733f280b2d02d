import type { TidemarkClient } from '../types.js';
import type { InteractionOptions } from './interactions.js';

/**
 * loadInteractions.ts as the script tag builds it (rollup.config.mjs): nothing, since the script tag's entry
 * (browser.ts) adds the autocapture file `tidemark.autocapture.min.js` from beside its own, and a dynamic
 * `import()` has no place in a one-file IIFE.
 */
export function loadInteractions(
  _client: Pick<TidemarkClient, 'track'>,
  _options: InteractionOptions,
): void {}
