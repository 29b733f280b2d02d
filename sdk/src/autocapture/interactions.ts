import type { TidemarkClient } from '../types.js';
import { describe, outboundLink } from './describe.js';

/** Which interactions become events; see the options of the same names. */
export interface InteractionOptions {
  hoverCapture?: boolean | undefined;
  outboundLinks?: boolean | undefined;
}

/** The elements a generic `$click` or `$hover` is about: what a visitor means to press. */
const INTERACTIVE = 'a,button,input,select,textarea,label,summary,[role=button],[role=link]';

/**
 * Autocapture, off by default and so not in the core: loaded by the pages that turn it on (the npm client
 * imports this module when `autocapture` is set, the script tag adds `tidemark.autocapture.min.js`).
 * - A click on or in an interactive element sends `$click` `{ tag, text, selector, href }`, unless the core's
 *   click listener (clicks.ts) reported it already: an element with `data-tidemark-event`, an outbound link.
 * - With `hoverCapture`, resting the pointer 500 ms on such an element sends `$hover`.
 * Both listen passively on the whole document, clicks in the capture phase, as clicks.ts does.
 */
export function captureInteractions(
  client: Pick<TidemarkClient, 'track'>,
  options: InteractionOptions,
): void {
  addEventListener(
    'click',
    (event) => {
      const target = event.target as Element;
      if (
        !target.closest ||
        target.closest('[data-tidemark-event]') ||
        outboundLink(target, options.outboundLinks)
      )
        return;
      const element = target.closest(INTERACTIVE);
      if (element) client.track('$click', describe(element));
    },
    { capture: true, passive: true },
  );

  if (options.hoverCapture) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    addEventListener(
      'mouseover',
      (event) => {
        clearTimeout(timer);
        const element = (event.target as Element).closest?.(INTERACTIVE);
        // Resting 500 ms on an element is interest; passing over it on the way elsewhere is not.
        if (element)
          timer = setTimeout(() => {
            if (element.matches(':hover')) client.track('$hover', describe(element));
          }, 500);
      },
      { passive: true },
    );
  }
}
