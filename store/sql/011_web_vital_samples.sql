-- Web Vitals samples, pre-parsed (DESIGN §5): one narrow row per `$web_vital` event, with the dashboard's filters,
-- the page and the hour, so that web_vitals.sql computes an exact p75 (quantileExact needs every sample) without
-- reading and parsing the properties JSON of every raw event. Not an aggregate: a p75 of a range cannot be merged
-- from per-hour p75s, and a sample is a few bytes here against the whole event row there.
--
-- The read is web_vitals.sql: the range's whole UTC hours from here, the minutes at its edges from tidemark.events,
-- parsed the same way, so its answer equals the raw events' answer for any range. Exact for the same reasons as
-- 009_traffic_hourly.sql: each event reaches the view once (migration 008), a retried insert's block is dropped
-- by the deduplication window; bots are left out, as every ready query leaves them out.

CREATE TABLE IF NOT EXISTS tidemark.web_vital_samples{{local}} {{on_cluster}}
(
    project_id  LowCardinality(String),
    -- The metric's name as web-vitals sent it (LCP, INP, CLS, FCP, TTFB; anything else is kept and not read).
    metric      LowCardinality(String),
    hour        DateTime('UTC'),
    host        LowCardinality(String),
    country     LowCardinality(String),
    device_type LowCardinality(String),
    path        String CODEC(ZSTD(1)),
    value       Float64 CODEC(ZSTD(1)),
    rating      LowCardinality(String),
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill    UInt8
)
ENGINE = {{engine web_vital_samples MergeTree()}}
PARTITION BY toYYYYMM(hour)
-- The metric before the hour: the dashboard asks for all five, a page of the dashboard for one.
ORDER BY (project_id, metric, hour, host, country, device_type, path)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed web_vital_samples cityHash64(project_id, path)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.web_vital_samples_mv {{on_cluster}}
TO tidemark.web_vital_samples{{local}}
AS SELECT
    project_id,
    JSONExtractString(properties, 'name') AS metric,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    path,
    JSONExtractFloat(properties, 'value') AS value,
    JSONExtractString(properties, 'rating') AS rating,
    toUInt8(0) AS backfill
FROM tidemark.events{{local}}
WHERE type = 'track' AND event = '$web_vital' AND bot_reason = '';

-- The backfill, as in 009_traffic_hourly.sql: rows stored before the view existed (by _inserted_at, to the second),
-- without stopping ingestion; re-running it replaces what an earlier run wrote.
DELETE FROM tidemark.web_vital_samples{{local}} {{on_cluster}} WHERE backfill = 1;

-- Columns named: 041 added `session` after path.
{{this_node}} INSERT INTO tidemark.web_vital_samples (project_id, metric, hour, host, country, device_type, path, value, rating, backfill)
SELECT
    project_id,
    JSONExtractString(properties, 'name') AS metric,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    path,
    JSONExtractFloat(properties, 'value') AS value,
    JSONExtractString(properties, 'rating') AS rating,
    toUInt8(1) AS backfill
FROM tidemark.events FINAL
WHERE type = 'track' AND event = '$web_vital' AND bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'web_vital_samples_mv');
