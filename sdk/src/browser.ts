import { createClient, replayCall } from './client.js';
import type { TidemarkClient, TidemarkOptions } from './types.js';

/**
 * A call made to the pre-load snippet's stub: `[method, arguments, when]`, `when` in ms since the epoch (absent
 * from the calls of snippets older than it).
 */
type Call = [method: keyof TidemarkClient, args: unknown[], at?: number];

declare global {
  interface Window {
    /** The script-tag client (`dist/tidemark.min.js`), or before it loads the snippet's stub. */
    tidemark?: TidemarkClient | (Call[] & Partial<TidemarkClient>);
  }
}

// The script-tag entry, configured by its own tag's data attributes:
//   <script defer src="/tidemark.min.js" data-write-key="KEY" data-host="https://t.example.com"
//           data-endpoint="/v1/batch" data-flush-interval="1000" data-autocapture data-respect-do-not-track
//           data-vitals data-hover-capture data-debug></script>
// `currentScript` is set while a classic script (deferred, async or inserted by the snippet) runs; the selector
// is for a copy inlined or loaded as a module, where it is null.
const stub = window.tidemark;
if (!stub || Array.isArray(stub)) {
  const tag = (document.currentScript ??
    document.querySelector('script[data-write-key]')) as HTMLScriptElement | null;
  const data = tag?.dataset ?? {};
  // Every option has its attribute, named as the option in kebab case (`flushInterval` ← `data-flush-interval`).
  // A bare attribute or `"true"` is true, `"false"` false, digits a number (the write key stays text).
  const options: Record<string, unknown> = {};
  for (const [name, value = ''] of Object.entries(data)) {
    options[name] =
      value === '' || value === 'true'
        ? true
        : value === 'false'
          ? false
          : /^\d+$/.test(value) && name !== 'writeKey'
            ? Number(value)
            : value;
  }
  const client = createClient(options as unknown as TidemarkOptions);
  window.tidemark = client;
  // Calls made before this script loaded, in the order they were made, each with the time it was made; before
  // the first page view, which waits a task (so an `identify()` or `optIn()` made early applies to it).
  for (const [method, args, at] of stub ?? []) {
    try {
      replayCall(at, () => (client[method] as (...a: unknown[]) => void)(...args));
    } catch {
      // An unknown method name in the queue: skip it.
    }
  }
  // What is off by default is a file of its own beside this one, which only the pages that turn it on load:
  // `data-vitals` / `data-autocapture` add it, `data-vitals="/js/vitals.js"` names another URL for it.
  const chunk = (option: unknown, name: string) => () => {
    const script = document.createElement('script');
    script.src = typeof option === 'string' ? option : (tag?.src ?? '').replace(/[^/]*$/, name);
    document.head.append(script);
  };
  // Autocapture at once: the clicks it reports can come early.
  if (options.autocapture) chunk(options.autocapture, 'tidemark.autocapture.min.js')();
  // Web Vitals once the page is idle, so it costs nothing before; at most 5 s later: a busy page (or headless
  // Chromium after a long handler) may not go idle soon.
  if (options.vitals) {
    const idle = () =>
      (globalThis.requestIdleCallback ?? setTimeout)(chunk(options.vitals, 'tidemark.vitals.min.js'), {
        timeout: 5000,
      } as never);
    if (document.readyState === 'complete') idle();
    else addEventListener('load', idle);
  }
}
