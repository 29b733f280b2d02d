import type { Properties, TidemarkClient } from '../types.js';

/** Which clicks become events; see the options of the same names. */
export interface ClickOptions {
  autocapture?: boolean;
  hoverCapture?: boolean;
  outboundLinks?: boolean;
}

/** The elements a generic `$click` or `$hover` is about: what a visitor means to press. */
const INTERACTIVE = 'a,button,input,select,textarea,label,summary,[role=button],[role=link]';

/** A short CSS path to `element`: up to four levels, stopping at an id. */
function selector(element: Element): string {
  const parts: string[] = [];
  for (let node: Element | null = element; node && parts.length < 4; node = node.parentElement) {
    let part = node.localName;
    if (node.id) {
      parts.unshift(`${part}#${node.id}`);
      break;
    }
    for (const name of node.classList) part += `.${name}`;
    parts.unshift(part);
  }
  return parts.join(' > ');
}

/** What a `$click` or `$hover` says about its element. */
function describe(element: Element): Properties {
  return {
    tag: element.localName,
    // What the visitor reads: `textContent` would add hidden text and the text of scripts.
    // biome-ignore lint/performance/useDomNodeTextContent: see above
    text: (element as HTMLElement).innerText?.trim().slice(0, 100) ?? '',
    selector: selector(element),
    href: (element as HTMLAnchorElement).href,
  };
}

/**
 * Listens to clicks on the whole document, in the capture phase so that a page calling `stopPropagation()` still
 * reports them, and passively: nothing here delays or prevents a navigation or a `target=_blank` link, since the
 * event is stored when tracked and a page that unloads sends it by beacon.
 * - An element (or ancestor) with `data-tidemark-event="Signup"` sends `Signup`, with its other
 *   `data-tidemark-*` attributes as properties (`data-tidemark-plan="team"` → `{ plan: 'team' }`).
 * - Else a link to another host sends `$outbound` `{ href, text, … }` (unless `outboundLinks: false`).
 * - Else, with `autocapture`, a click on or in an interactive element sends `$click`.
 */
export function captureClicks(client: Pick<TidemarkClient, 'track'>, options: ClickOptions): void {
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
      const link = target.closest('a');
      if (options.outboundLinks !== false && link?.host && link.host !== location.host) {
        return client.track('$outbound', describe(link));
      }
      const element = target.closest(INTERACTIVE);
      if (options.autocapture && element) client.track('$click', describe(element));
    },
    { capture: true, passive: true },
  );

  if (options.autocapture && options.hoverCapture) {
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
