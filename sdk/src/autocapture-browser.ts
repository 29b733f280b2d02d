import { captureInteractions } from './autocapture/interactions.js';
import type { TidemarkClient } from './types.js';

// The script-tag autocapture file (`dist/tidemark.autocapture.min.js`): `$click` and, with `data-hover-capture`,
// `$hover`. The core script adds it from its own folder when its tag has `data-autocapture`; a page may also load
// it itself, after the core:
//   <script defer src="/tidemark.autocapture.min.js" data-hover-capture></script>
// Its options are data attributes, on its own tag or else on the core's (`data-hover-capture`,
// `data-outbound-links="false"`). It reports through `window.tidemark`, read at each event: the pre-load
// snippet's stub may be there now and the real client later, and whichever is there has `track`.

type AutocaptureWindow = Window & {
  tidemark?: Pick<TidemarkClient, 'track'>;
  /** Set by the first copy of this file, so a page that has it twice (added and tagged) reports once. */
  tidemarkAutocapture?: true;
};
const w = window as AutocaptureWindow;

if (!w.tidemarkAutocapture) {
  w.tidemarkAutocapture = true;
  const core = document.querySelector<HTMLScriptElement>('script[data-write-key]');
  const data = { ...core?.dataset, ...(document.currentScript as HTMLScriptElement | null)?.dataset };
  // As the core reads its attributes: a bare attribute or `"true"` is true, `"false"` false.
  const flag = (value: string | undefined) => (value === undefined ? undefined : value !== 'false');
  captureInteractions(
    { track: (event, properties) => w.tidemark?.track(event, properties) },
    { hoverCapture: flag(data.hoverCapture), outboundLinks: flag(data.outboundLinks) },
  );
}
