import type { Properties } from '../types.js';

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

/** What a `$click`, `$hover` or `$outbound` event says about its element. */
export function describe(element: Element): Properties {
  return {
    tag: element.localName,
    // What the visitor reads: `textContent` would add hidden text and the text of scripts.
    // biome-ignore lint/performance/useDomNodeTextContent: see above
    text: (element as HTMLElement).innerText?.trim().slice(0, 100) ?? '',
    selector: selector(element),
    href: (element as HTMLAnchorElement).href,
  };
}

/** A link to another host, which a click on sends `$outbound` (unless `outboundLinks: false`). */
export function outboundLink(target: Element, outboundLinks: boolean | undefined): HTMLAnchorElement | null {
  const link = target.closest('a');
  return outboundLinks !== false && link?.host && link.host !== location.host ? link : null;
}
