-- Page views and Web Vitals per UTC day, without the country and device filters in the key: the two rollups that
-- the dashboard's heaviest panels read for the whole days of an unfiltered range (bench/read.ts at 10M events:
-- top_pages and web_vitals about three times faster than from the hourly tables alone).
--
-- Why a second, coarser table: the hourly tables keep host, country and device type in their key so that every
-- filter of the dashboard works, which leaves them nearly a row per event at realistic traffic (an hour, a page, a
-- country and a device rarely share two page views). Without country and device, a day and a page gather
-- hundreds: 60 000 rows for a month of 10M events, where the hourly 'page' rows number millions.
--
-- Read through two parameterized views, tidemark.page_rows(…) and tidemark.web_vital_rows(…), which stitch a range
-- from three sources in the same columns:
--   - whole UTC days from the tables below, when neither the country nor the device filter is set,
--   - the other whole UTC hours from the hourly tables (009's 'page' rows, 011's samples),
--   - the minutes before the first and after the last whole hour from tidemark.events.
-- So an answer equals the raw events' answer for any range and filter. Exact for the same reasons as 009: each
-- event reaches the views once (migration 008), a retried insert's block is dropped by the deduplication window,
-- visitors are uniqExact states and a p75 is a quantileExact state (every sample), both merging without loss.
-- Bots are left out.

CREATE TABLE IF NOT EXISTS tidemark.page_days_state{{local}} {{on_cluster}}
(
    project_id        LowCardinality(String),
    day               Date,
    host              LowCardinality(String),
    path              String CODEC(ZSTD(1)),
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill          UInt8,
    pageviews         SimpleAggregateFunction(sum, UInt64),
    -- Page views that carry a session id: exit_pages' denominator.
    session_pageviews SimpleAggregateFunction(sum, UInt64),
    visitors          AggregateFunction(uniqExact, String)
)
ENGINE = {{engine page_days_state AggregatingMergeTree()}}
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, day, host, path, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed page_days_state cityHash64(project_id, day)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.page_days_mv {{on_cluster}}
TO tidemark.page_days_state{{local}}
AS SELECT
    project_id,
    toDate(timestamp) AS day,
    host,
    path,
    toUInt8(0) AS backfill,
    toUInt64(count()) AS pageviews,
    toUInt64(countIf(session_id != '')) AS session_pageviews,
    uniqExactState(anonymous_id) AS visitors
FROM tidemark.events{{local}}
WHERE type = 'page' AND bot_reason = ''
GROUP BY project_id, day, host, path;

CREATE TABLE IF NOT EXISTS tidemark.web_vital_days_state{{local}} {{on_cluster}}
(
    project_id        LowCardinality(String),
    metric            LowCardinality(String),
    day               Date,
    host              LowCardinality(String),
    path              String CODEC(ZSTD(1)),
    backfill          UInt8,
    samples           SimpleAggregateFunction(sum, UInt64),
    good              SimpleAggregateFunction(sum, UInt64),
    needs_improvement SimpleAggregateFunction(sum, UInt64),
    poor              SimpleAggregateFunction(sum, UInt64),
    -- Every sample's value: a quantileExact state is the list of them, so the p75 of any set of days is exact.
    p75               AggregateFunction(quantileExact(0.75), Float64)
)
ENGINE = {{engine web_vital_days_state AggregatingMergeTree()}}
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, metric, day, host, path, backfill)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed web_vital_days_state cityHash64(project_id, day)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.web_vital_days_mv {{on_cluster}}
TO tidemark.web_vital_days_state{{local}}
AS SELECT
    project_id,
    JSONExtractString(properties, 'name') AS metric,
    toDate(timestamp) AS day,
    host,
    path,
    toUInt8(0) AS backfill,
    toUInt64(count()) AS samples,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'good')) AS good,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'needs-improvement')) AS needs_improvement,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'poor')) AS poor,
    quantileExactState(0.75)(JSONExtractFloat(properties, 'value')) AS p75
FROM tidemark.events{{local}}
WHERE type = 'track' AND event = '$web_vital' AND bot_reason = ''
GROUP BY project_id, metric, day, host, path;

-- The backfills, as in 009_traffic_hourly.sql: rows stored before each view existed (by _inserted_at, to the
-- second), without stopping ingestion; re-running them replaces what an earlier run wrote.
DELETE FROM tidemark.page_days_state{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.page_days_state
SELECT
    project_id,
    toDate(timestamp) AS day,
    host,
    path,
    toUInt8(1) AS backfill,
    toUInt64(count()) AS pageviews,
    toUInt64(countIf(session_id != '')) AS session_pageviews,
    uniqExactState(anonymous_id) AS visitors
FROM tidemark.events FINAL
WHERE type = 'page' AND bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'page_days_mv')
GROUP BY project_id, day, host, path;

DELETE FROM tidemark.web_vital_days_state{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.web_vital_days_state
SELECT
    project_id,
    JSONExtractString(properties, 'name') AS metric,
    toDate(timestamp) AS day,
    host,
    path,
    toUInt8(1) AS backfill,
    toUInt64(count()) AS samples,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'good')) AS good,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'needs-improvement')) AS needs_improvement,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'poor')) AS poor,
    quantileExactState(0.75)(JSONExtractFloat(properties, 'value')) AS p75
FROM tidemark.events FINAL
WHERE type = 'track' AND event = '$web_vital' AND bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'web_vital_days_mv')
GROUP BY project_id, metric, day, host, path;

-- Page views per host and path for a range and the dashboard's filters, as states to merge per page: pageviews,
-- session_pageviews (sums) and visitors (uniqExact). Parameters as in the ready queries: project; from and to
-- (DateTime64(3, 'UTC'), `from` included); host, country, device_type ('' = any).
CREATE VIEW IF NOT EXISTS tidemark.page_rows {{on_cluster}} AS
WITH
    {{range_hours}},
    -- Its whole UTC days [days_from, days_to), read by day when no country or device filter asks for the hours.
    toStartOfDay(hours_from) AS from_day,
    if(from_day = hours_from, from_day, from_day + INTERVAL 1 DAY) AS days_from,
    greatest(toStartOfDay(hours_to), days_from) AS days_to,
    {country:String} = '' AND {device_type:String} = '' AS by_day
SELECT toString(host) AS host, path, pageviews, session_pageviews, visitors
FROM tidemark.page_days_state
WHERE by_day
  AND project_id = {project:String}
  AND day >= toDate(days_from)
  AND day < toDate(days_to)
  AND ({host:String} = '' OR host = {host:String})
UNION ALL
SELECT toString(host) AS host, value AS path, pageviews, session_pageviews, visitors
FROM tidemark.traffic_hourly_state
WHERE project_id = {project:String}
  AND dimension = 'page'
  AND hour >= hours_from
  AND hour < hours_to
  -- Outside the whole days the daily table gave, in a form the primary key can prune by.
  AND (hour < if(by_day, days_from, hours_to) OR hour >= if(by_day, days_to, hours_to))
  {{filters}}
UNION ALL
-- The edges; a constant false when the range starts and ends on the hour, so nothing is read.
SELECT
    toString(host) AS host,
    path,
    toUInt64(count()) AS pageviews,
    toUInt64(countIf(session_id != '')) AS session_pageviews,
    uniqExactState(anonymous_id) AS visitors
FROM tidemark.events
WHERE (hours_from != {from:DateTime64(3, 'UTC')} OR hours_to != {to:DateTime64(3, 'UTC')})
  AND project_id = {project:String}
  AND timestamp >= {from:DateTime64(3, 'UTC')}
  AND timestamp < {to:DateTime64(3, 'UTC')}
  AND (timestamp < hours_from OR timestamp >= hours_to)
  AND type = 'page'
  AND bot_reason = ''
  {{filters}}
GROUP BY host, path;

-- Web Vitals samples per metric, host and path for a range and the dashboard's filters, as states to merge per
-- page: samples and the count of each rating (sums), p75 (quantileExact(0.75) state). Parameters as page_rows,
-- and metric ('' = all five: LCP, INP, CLS, FCP, TTFB).
CREATE VIEW IF NOT EXISTS tidemark.web_vital_rows {{on_cluster}} AS
WITH
    {{range_hours}},
    toStartOfDay(hours_from) AS from_day,
    if(from_day = hours_from, from_day, from_day + INTERVAL 1 DAY) AS days_from,
    greatest(toStartOfDay(hours_to), days_from) AS days_to,
    {country:String} = '' AND {device_type:String} = '' AS by_day
SELECT toString(metric) AS metric, toString(host) AS host, path, samples, good, needs_improvement, poor, p75
FROM tidemark.web_vital_days_state
WHERE by_day
  AND project_id = {project:String}
  AND metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
  AND ({metric:String} = '' OR metric = {metric:String})
  AND day >= toDate(days_from)
  AND day < toDate(days_to)
  AND ({host:String} = '' OR host = {host:String})
UNION ALL
SELECT
    toString(metric) AS metric,
    toString(host) AS host,
    path,
    toUInt64(count()) AS samples,
    toUInt64(countIf(rating = 'good')) AS good,
    toUInt64(countIf(rating = 'needs-improvement')) AS needs_improvement,
    toUInt64(countIf(rating = 'poor')) AS poor,
    quantileExactState(0.75)(value) AS p75
FROM tidemark.web_vital_samples
WHERE project_id = {project:String}
  AND metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
  AND ({metric:String} = '' OR metric = {metric:String})
  AND hour >= hours_from
  AND hour < hours_to
  -- Outside the whole days the daily table gave, in a form the primary key can prune by.
  AND (hour < if(by_day, days_from, hours_to) OR hour >= if(by_day, days_to, hours_to))
  {{filters}}
GROUP BY metric, host, path
UNION ALL
-- The edges; a constant false when the range starts and ends on the hour, so nothing is read.
SELECT
    metric,
    toString(host) AS host,
    path,
    toUInt64(count()) AS samples,
    toUInt64(countIf(rating = 'good')) AS good,
    toUInt64(countIf(rating = 'needs-improvement')) AS needs_improvement,
    toUInt64(countIf(rating = 'poor')) AS poor,
    quantileExactState(0.75)(value) AS p75
FROM
(
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
WHERE metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
  AND ({metric:String} = '' OR metric = {metric:String})
GROUP BY metric, host, path;
