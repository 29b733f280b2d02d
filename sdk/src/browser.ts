import { createClient } from './client.js';
import type { TidemarkClient, TidemarkOptions } from './types.js';

/** A call made to the pre-load snippet's stub: `[method, arguments]`. */
type Call = [method: keyof TidemarkClient, args: unknown[]];

declare global {
  interface Window {
    /** The script-tag client (`dist/tidemark.min.js`), or before it loads the snippet's stub. */
    tidemark?: TidemarkClient | (Call[] & Partial<TidemarkClient>);
  }
}

// The script-tag entry, configured by its own tag's data attributes:
//   <script defer src="/tidemark.min.js" data-write-key="KEY" data-host="https://t.example.com"
//           data-endpoint="/v1/batch" data-flush-interval="1000" data-autocapture data-respect-do-not-track
//           data-vitals data-debug></script>
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
  // Calls made before this script loaded, in the order they were made; before the first page view, which
  // waits a task (so an `identify()` or `optIn()` made early applies to it).
  for (const [method, args] of stub ?? []) {
    try {
      (client[method] as (...a: unknown[]) => void)(...args);
    } catch {
      // An unknown method name in the queue: skip it.
    }
  }
  // Web Vitals: a second file beside this one, fetched only once the page is idle, so it costs nothing before.
  if (options.vitals) {
    const load = () => {
      const script = document.createElement('script');
      // `data-vitals="/js/vitals.js"` names the file; a bare `data-vitals` means the one beside this script.
      script.src =
        typeof options.vitals === 'string'
          ? options.vitals
          : (tag?.src ?? '').replace(/[^/]*$/, 'tidemark.vitals.min.js');
      document.head.append(script);
    };
    // At most 5 s later: a busy page (or headless Chromium after a long handler) may not go idle soon.
    const idle = () => (globalThis.requestIdleCallback ?? setTimeout)(load, { timeout: 5000 } as never);
    if (document.readyState === 'complete') idle();
    else addEventListener('load', idle);
  }
}
