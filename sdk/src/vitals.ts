import { type MetricType, onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';

/**
 * What `captureWebVitals()` needs of a client: only `track`. The npm client, `window.tidemark` and the
 * pre-load snippet's stub all fit, so this entry never imports the core and adds nothing to it.
 */
export interface VitalsClient {
  /** Records one event; the `$web_vital` events go through the client's queue like any other. */
  track(event: string, properties?: Record<string, unknown>): void;
}

/**
 * The properties of a `$web_vital` event: web-vitals' `Metric` without its `entries`. The ClickHouse rollup
 * (store/sql/007_web_vitals_daily.sql) reads these names, so they are part of the wire format. A type, not an
 * interface, so that it is assignable to `track`'s `Record<string, unknown>` as it is.
 */
export type WebVitalProperties = {
  /** The metric: `'LCP'`, `'INP'`, `'CLS'`, `'FCP'` or `'TTFB'`. */
  name: MetricType['name'];
  /** The metric's value: milliseconds, or for CLS a unitless layout-shift score. */
  value: number;
  /** The change since the last report of the same `id`; equal to `value` on the first one. */
  delta: number;
  /** Unique per metric instance; a page restored from the back/forward cache starts new ones. */
  id: string;
  /** `'good'`, `'needs-improvement'` or `'poor'`, by web.dev's thresholds for the metric. */
  rating: MetricType['rating'];
  /** How the page was reached: `'navigate'`, `'reload'`, `'back-forward'`, `'back-forward-cache'`, … */
  navigationType: MetricType['navigationType'];
};

/** The event name every measurement is tracked under. */
export const WEB_VITAL_EVENT = '$web_vital';

/**
 * Measures the Core Web Vitals (LCP, INP, CLS) and FCP and TTFB of the current page load, and tracks each as a
 * `$web_vital` event with {@link WebVitalProperties}. Call it once per page.
 *
 * web-vitals' default `reportAllChanges: false` is kept on purpose: each metric is reported once, with its
 * final value (LCP at the first input or when the page is hidden, CLS and INP when the page is hidden), so a
 * page load sends at most five (a back/forward-cache restore starts new ones) and a quantile over the rows is
 * a quantile over page loads. With every intermediate change reported, pages with many layout shifts or
 * interactions would weigh more in the rollup.
 * The final reports come in `visibilitychange`: web-vitals listens on `window` in the capture phase, so they are
 * tracked before the core's listener on `document` sends the queue by beacon in the same event.
 *
 * `entries` are left out: they are DOM objects, neither serializable nor small.
 */
export function captureWebVitals(client: VitalsClient): void {
  const report = ({ name, value, delta, id, rating, navigationType }: MetricType) => {
    const properties: WebVitalProperties = { name, value, delta, id, rating, navigationType };
    client.track(WEB_VITAL_EVENT, properties);
  };
  onLCP(report);
  onINP(report);
  onCLS(report);
  onFCP(report);
  onTTFB(report);
}
