import type { Properties, TidemarkClient } from '../types.js';
import { describe, outboundLink } from './describe.js';

/**
 * The clicks every page reports, whatever its options say (autocapture's `$click` and `$hover`, off by default,
 * are in interactions.ts, loaded only by the pages that turn them on). Listens to clicks on the whole document, in
 * the capture phase so that a page calling `stopPropagation()` still reports them, and passively: nothing here
 * delays or prevents a navigation or a `target=_blank` link, since the event is stored when tracked and a page
 * that unloads sends it by beacon.
 * - An element (or ancestor) with `data-tidemark-event="Signup"` sends `Signup`, with its other
 *   `data-tidemark-*` attributes as properties (`data-tidemark-plan="team"` → `{ plan: 'team' }`).
 * - Else a link to another host sends `$outbound` `{ href, text, … }` (unless `outboundLinks: false`).
 */
export function captureClicks(
  client: Pick<TidemarkClient, 'track'>,
  options: { outboundLinks?: boolean | undefined },
): void {
  addEventListener(
    'click',
    (event) => {
      const target = event.target as Element;
      if (!target.closest) return;
      const named = target.closest<HTMLElement>('[data-tidemark-event]');
      if (named) {
        const properties: Properties = {};
        for (const [key, value] of Object.entries(named.dataset)) {
          if (key !== 'tidemarkEvent' && key.startsWith('tidemark'))
            properties[key[8]?.toLowerCase() + key.slice(9)] = value;
        }
        return client.track(named.dataset.tidemarkEvent as string, properties);
      }
      const link = outboundLink(target, options.outboundLinks);
      if (link) client.track('$outbound', describe(link));
    },
    { capture: true, passive: true },
  );
}
