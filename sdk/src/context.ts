import type { EventContext, PageContext } from './types.js';
import { version } from './version.js';

// Every global is read through `globalThis` with `?.`: the same code runs in Node (SSR, unit tests), where
// `location`, `document` and, before Node 21, `navigator` do not exist.

/** The page as it is now. */
export function pageContext(): PageContext {
  const { location, document } = globalThis;
  return {
    url: location?.href ?? '',
    path: location?.pathname ?? '',
    title: document?.title ?? '',
    referrer: document?.referrer ?? '',
    search: location?.search ?? '',
  };
}

/** The browser facts that do not change while the page lives: read once, sent with every event. */
export function constantContext(): Omit<EventContext, 'page' | 'sessionId'> {
  const { navigator, screen } = globalThis;
  return {
    userAgent: navigator?.userAgent ?? '',
    locale: navigator?.language ?? '',
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    screen: { width: screen?.width ?? 0, height: screen?.height ?? 0 },
    library: { name: '@tidemark/sdk', version },
  };
}
