import { captureWebVitals, type VitalsClient } from './vitals.js';

// The script-tag Web Vitals chunk (`dist/tidemark.vitals.min.js`). The core script injects it from its own
// folder on idle when its tag has `data-vitals`; a page may also load it itself, after the core:
//   <script defer src="/tidemark.vitals.min.js"></script>
// It reports through `window.tidemark`, read at each report rather than now: the pre-load snippet's stub may
// be there now and the real client later, and whichever is there has `track`.

type VitalsWindow = Window & {
  /** The core script's client, or the snippet's stub: all this chunk uses of either is `track`. */
  tidemark?: VitalsClient;
  /** Set by the first copy of this chunk, so a page that has it twice (injected and tagged) reports once. */
  tidemarkVitals?: true;
};
const w = window as VitalsWindow;

if (!w.tidemarkVitals) {
  w.tidemarkVitals = true;
  captureWebVitals({
    track(event, properties) {
      if (w.tidemark) w.tidemark.track(event, properties);
      // Both scripts loaded `async`, this one ran first and FCP or TTFB came before the core: every async
      // script has run by `load`. Later than that there is no client to wait for.
      else if (document.readyState !== 'complete')
        addEventListener('load', () => w.tidemark?.track(event, properties), { once: true });
    },
  });
}
