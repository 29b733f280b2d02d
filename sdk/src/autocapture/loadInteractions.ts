import type { TidemarkClient } from '../types.js';
import type { InteractionOptions } from './interactions.js';

/**
 * Starts autocapture (`autocapture: true`) from a module of its own: an app's bundler makes it a chunk that only
 * the pages with autocapture download. The script tag builds with loadInteractions.scriptTag.ts in place of this
 * file (rollup.config.mjs), and its entry adds `tidemark.autocapture.min.js` instead.
 */
export function loadInteractions(client: Pick<TidemarkClient, 'track'>, options: InteractionOptions): void {
  void import('./interactions.js').then(({ captureInteractions }) => captureInteractions(client, options));
}
