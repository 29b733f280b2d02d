-- Page views and Web Vitals per UTC day, without the country and device filters in the key: the two rollups that
-- the dashboard's heaviest panels read for the whole days of an unfiltered range (bench/read.ts at 10M events:
-- top_pages and web_vitals about three times faster than from the hourly tables alone).
--
-- Why a second, coarser table: the hourly tables keep host, country and device type in their key so that every
-- filter of the dashboard works, which leaves them nearly a row per event at realistic traffic (an hour, a page, a
-- country and a device rarely share two page views). Without country and device, a day and a page gather
-- hundreds: 60 000 rows for a month of 10M events, where the hourly 'page' rows number millions.
--
-- Read through tidemark.page_rows(…) and tidemark.web_vital_rows(…) (store/sql/views/), which stitch a range
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
