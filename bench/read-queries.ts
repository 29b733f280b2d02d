// What bench/read.ts times: the dashboard's panels and ranges as gateway/src/dashboard/refresh.js issues them,
// every ready query's parameters, and a property breakdown as typed in the SQL console.
import type { QueryName, QueryParams } from '@tidemark/queries';

const day = 86_400_000;

/**
 * The dashboard's panels, as refresh.js's refresh() runs them with its default tabs and no comparison: the
 * counters, the chart, then the shown tab of each panel (pages, sources, devices), countries, custom events and Web
 * Vitals. Another tab (entry or exit pages, UTM, browsers, OS) replaces its panel's first one, so a refresh runs as
 * many queries; comparing with the previous period adds overview and visitors_over_time once more. Funnel,
 * retention and a person's events run only when asked.
 */
export const panels = [
  'active_visitors',
  'overview',
  'visitors_over_time',
  'top_pages',
  'referrers',
  'devices',
  'countries',
  'custom_events',
  'web_vitals',
] as const satisfies readonly QueryName[];
/** Queries that must read raw events (no rollup can answer them), with a goal of their own. */
export const rawQueries = ['funnel', 'retention', 'event_properties', 'property_breakdown'];
export const ranges = {
  '24h': { ms: day, interval: 'hour' },
  '7d': { ms: 7 * day, interval: 'day' },
  '30d': { ms: 30 * day, interval: 'day' },
} as const;
export type Range = keyof typeof ranges;

/**
 * A custom-event property breakdown of one property as typed in the dashboard's SQL console (the ready query
 * event_properties answers every property of the event at once).
 */
export const propertyBreakdown = `WITH events AS
(
    SELECT *
    FROM tidemark.events FINAL
    WHERE project_id = {project:String}
      AND timestamp >= {from:DateTime64(3, 'UTC')}
      AND timestamp < {to:DateTime64(3, 'UTC')}
      AND bot_reason = ''
)
SELECT JSONExtractString(properties, 'category') AS category, count() AS events, uniqExact(anonymous_id) AS visitors
FROM events
WHERE type = 'track' AND event = 'Product Viewed'
GROUP BY category
ORDER BY events DESC, category
LIMIT 10`;

/** ClickHouse's DateTime64 text in UTC, as the dashboard writes `from` and `to`. */
const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** The session filter the benchmark's filtered refresh sets: one visitor in seventeen browses with Firefox. */
export const benchFilter = 'browser=Firefox';

/**
 * Every ready query's parameters for a range as the dashboard computes it now (`to` a minute ahead, limit 10, no
 * filter but `filter`), except the time zone: UTC here, the browser's there. The funnel and retention, not on the dashboard,
 * get a signup funnel within an hour and weekly cohorts.
 */
export function paramsFor(project: string, range: Range, filter = ''): { [N in QueryName]: QueryParams[N] } {
  const to = Math.ceil(Date.now() / 1000) * 1000 + 60_000;
  const filters = { host: '', country: '', device_type: '', filter };
  const common = { project, from: utc(to - ranges[range].ms), to: utc(to), ...filters };
  const list = { ...common, limit: 10 };
  const zoned = { ...common, interval: ranges[range].interval, timezone: 'UTC' };
  return {
    overview: common,
    visitors_over_time: zoned,
    sessions_over_time: zoned,
    session_duration: common,
    top_pages: list,
    entry_pages: list,
    exit_pages: list,
    referrers: list,
    utm_campaigns: list,
    browsers: list,
    operating_systems: list,
    devices: list,
    countries: list,
    custom_events: list,
    event_properties: { ...list, event: 'Product Viewed' },
    funnel: { ...common, steps: ['/', '/pricing', 'Signup Started', 'Signup Completed'], window: 3600 },
    retention: { ...common, interval: 'week', timezone: 'UTC' },
    // A person the generated load does not hold: the cost of finding a person's ids and reading their rows.
    person_events: { project, from: common.from, to: common.to, person: 'user-1', limit: 1000 },
    web_vitals: { ...list, metric: '' },
    active_visitors: { project, minutes: 5, ...filters },
  };
}
