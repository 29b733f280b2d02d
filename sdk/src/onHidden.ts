/**
 * Calls `callback` when the page is being hidden, maybe for good: timers may never fire again and a plain fetch
 * may be cancelled. `visibilitychange` is the last event mobile browsers reliably fire before discarding a page;
 * `pagehide` covers the desktop unloads where it does not fire
 * (https://developer.chrome.com/docs/web-platform/page-lifecycle-api). Both may fire: `callback` must not mind.
 */
export function onHidden(callback: () => void): void {
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && callback());
  addEventListener('pagehide', callback);
}
