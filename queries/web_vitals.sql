-- Web Vitals per page: the 75th percentile of each metric, and the share of good, needs-improvement and poor
-- samples, from the `$web_vital` events the SDK sends (properties: web-vitals' Metric).
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   metric       String                 only this metric: LCP, INP, CLS, FCP or TTFB ('' = all five)
--   limit        UInt32                 pages per metric, the most measured first
--
-- Returns metric, host, path, samples, p75 (a measured value: the sorted sample at floor(0.75 · n), exact,
-- not the rollup's sampled estimate), p75_rating (p75 against web.dev's thresholds), good_share,
-- needs_improvement_share, poor_share (each sample's own rating as web-vitals computed it in the browser).
-- LCP, INP, FCP and TTFB are milliseconds, CLS is a unitless score.
--
-- Read from tidemark.web_vital_samples (store/sql/011_web_vital_samples.sql: every sample, its properties already
-- parsed) for the whole UTC hours of the range, and from tidemark.events for the minutes before the first and
-- after the last whole hour, parsed the same way: every sample is there, so the p75 is the raw events' p75. Each
-- event counts once: tidemark.events stores an event_id once (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_metric=LCP --param_limit=20 \
--     --queries-file queries/web_vitals.sql

WITH
    -- The range's whole UTC hours [hours_from, hours_to): empty when the range lies within one hour.
    toStartOfHour({from:DateTime64(3, 'UTC')}) AS from_hour,
    if(from_hour = {from:DateTime64(3, 'UTC')}, from_hour, from_hour + INTERVAL 1 HOUR) AS hours_from,
    greatest(toStartOfHour({to:DateTime64(3, 'UTC')}), hours_from) AS hours_to,
    samples AS
    (
        SELECT metric, host, path, value, rating
        FROM tidemark.web_vital_samples
        WHERE project_id = {project:String}
          AND metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
          AND ({metric:String} = '' OR metric = {metric:String})
          AND hour >= hours_from
          AND hour < hours_to
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
        UNION ALL
        -- The edges; a constant false when the range starts and ends on the hour, so nothing is read.
        SELECT
            JSONExtractString(properties, 'name') AS metric,
            host,
            path,
            JSONExtractFloat(properties, 'value') AS value,
            JSONExtractString(properties, 'rating') AS rating
        FROM tidemark.events
        WHERE (hours_from != {from:DateTime64(3, 'UTC')} OR hours_to != {to:DateTime64(3, 'UTC')})
          AND project_id = {project:String}
          AND timestamp >= {from:DateTime64(3, 'UTC')}
          AND timestamp < {to:DateTime64(3, 'UTC')}
          AND (timestamp < hours_from OR timestamp >= hours_to)
          AND type = 'track'
          AND event = '$web_vital'
          AND bot_reason = ''
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
    )
SELECT
    metric,
    host,
    path,
    count() AS samples,
    quantileExact(0.75)(value) AS p75,
    -- https://web.dev/articles/vitals: good up to the first bound, poor above the second.
    multiIf(
        metric = 'LCP', (2500, 4000),
        metric = 'INP', (200, 500),
        metric = 'CLS', (0.1, 0.25),
        metric = 'FCP', (1800, 3000),
        (800, 1800)) AS bounds,
    multiIf(p75 <= bounds.1, 'good', p75 <= bounds.2, 'needs-improvement', 'poor') AS p75_rating,
    countIf(rating = 'good') / samples AS good_share,
    countIf(rating = 'needs-improvement') / samples AS needs_improvement_share,
    countIf(rating = 'poor') / samples AS poor_share
FROM samples
WHERE metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
  AND ({metric:String} = '' OR metric = {metric:String})
GROUP BY metric, host, path
ORDER BY metric, samples DESC, host, path
LIMIT {limit:UInt32} BY metric
