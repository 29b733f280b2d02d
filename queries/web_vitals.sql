-- Web Vitals per page: the 75th percentile of each metric, and the share of good, needs-improvement and poor
-- samples, from the `$web_vital` events the SDK sends (properties: web-vitals' Metric).
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   filter       String                 more filters, each keeping the sessions that match it, as a URL query
--                                       string: page=%2Fpricing&browser=Firefox ('' = none; the keys are in
--                                       store/sql/views/01_filtered_sessions.sql). Set, it reads tidemark.events.
--   metric       String                 only this metric: LCP, INP, CLS, FCP or TTFB ('' = all five)
--   limit        UInt32                 pages per metric, the most measured first
--
-- Returns metric, host, path, samples, p75 (a measured value: the sorted sample at floor(0.75 · n), exact,
-- not the rollup's sampled estimate), p75_rating (p75 against web.dev's thresholds), good_share,
-- needs_improvement_share, poor_share (each sample's own rating as web-vitals computed it in the browser).
-- LCP, INP, FCP and TTFB are milliseconds, CLS is a unitless score.
--
-- Read through tidemark.web_vital_rows (store/sql/views/05_web_vital_rows.sql): whole UTC days from the daily
-- rollup when no country or device filter is set, the other whole hours from tidemark.web_vital_samples (011:
-- every sample, its properties already parsed), and the minutes before the first and after the last whole hour
-- from tidemark.events, parsed the same way. All three carry every sample (a quantileExact state is the list of
-- its values), so the p75 is the raw events' p75. Each event counts once: tidemark.events stores an event_id once
-- (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' --param_metric=LCP --param_limit=20 \
--     --queries-file queries/web_vitals.sql

SELECT
    metric,
    host,
    path,
    sum(samples) AS samples,
    quantileExactMerge(0.75)(p75) AS p75,
    -- https://web.dev/articles/vitals: good up to the first bound, poor above the second.
    multiIf(
        metric = 'LCP', (2500, 4000),
        metric = 'INP', (200, 500),
        metric = 'CLS', (0.1, 0.25),
        metric = 'FCP', (1800, 3000),
        (800, 1800)) AS bounds,
    multiIf(p75 <= bounds.1, 'good', p75 <= bounds.2, 'needs-improvement', 'poor') AS p75_rating,
    sum(good) / samples AS good_share,
    sum(needs_improvement) / samples AS needs_improvement_share,
    sum(poor) / samples AS poor_share
FROM tidemark.web_vital_rows(
    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
    host = {host:String}, country = {country:String}, device_type = {device_type:String},
    filter = {filter:String},
    metric = {metric:String})
GROUP BY metric, host, path
ORDER BY metric, samples DESC, host, path
LIMIT {limit:UInt32} BY metric
