import { createClient } from './client.js';
import type { TidemarkClient } from './types.js';

declare global {
  interface Window {
    /** The script-tag client (`dist/tidemark.min.js`). */
    tidemark?: TidemarkClient;
  }
}

// The script-tag entry. Configured by its own tag's data attributes:
//   <script defer src="/tidemark.min.js" data-host="https://t.example.com" data-write-key="KEY"
//           data-flush-interval="1000" data-debug></script>
// `currentScript` is set while a classic script (deferred or not) runs; the selector is for a copy inlined
// or loaded as a module, where it is null.
if (!window.tidemark) {
  const tag = (document.currentScript ??
    document.querySelector('script[data-write-key]')) as HTMLElement | null;
  const data = tag?.dataset ?? {};
  const client = createClient({
    writeKey: data.writeKey ?? '',
    host: data.host,
    flushInterval: Number(data.flushInterval) || undefined,
    debug: data.debug !== undefined,
  });
  window.tidemark = client;
  // A page view per load. Loaded `async` while the document is still parsing, wait for its title.
  if (document.readyState === 'loading') addEventListener('DOMContentLoaded', () => client.page());
  else client.page();
}
