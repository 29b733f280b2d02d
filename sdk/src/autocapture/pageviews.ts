/**
 * Calls `view` once per URL the page shows: on load (after the document is parsed, so the title is there), after
 * `history.pushState` / `replaceState` and on `popstate` / `hashchange` when they changed the URL (client-side
 * routers use these), and when the page comes back from the back/forward cache, which is a new visit of the
 * same URL that runs no script (https://web.dev/articles/bfcache). Never twice for one URL change: a router that
 * calls `replaceState` with the URL it is on, or `pushState` and then `popstate` handling, sends nothing more.
 */
export function capturePageviews(view: () => void): void {
  let last: string | undefined;
  const check = () => {
    if (location.href !== last) {
      last = location.href;
      view();
    }
  };
  // A macrotask later: routers update `document.title` after they changed the URL, and calls made before the
  // SDK loaded (the snippet's queue, `identify()` first) are replayed before the first view.
  const soon = () => setTimeout(check);
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      soon();
    };
  }
  addEventListener('popstate', soon);
  addEventListener('hashchange', soon);
  addEventListener('pageshow', (event) => {
    if (event.persisted) {
      last = undefined;
      check();
    }
  });
  if (document.readyState === 'loading') addEventListener('DOMContentLoaded', soon);
  else soon();
}
