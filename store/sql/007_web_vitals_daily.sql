-- Web Vitals per project, host, path and metric per day (DESIGN §5). The SDK sends each measurement as a track
-- event `$web_vital` whose properties are web-vitals' Metric: {"name","value","delta","id","rating",
-- "navigationType"}. The state keeps p50/p75/p95 (reservoir quantiles: exact up to 8,192 samples per group,
-- a uniform sample beyond) and the count per rating; the view tidemark.web_vitals_daily finalizes them.
-- Daily, not hourly: a quantile state is up to 64 KiB, and a day is the resolution the Core Web Vitals report.

CREATE TABLE IF NOT EXISTS tidemark.web_vitals_daily_state{{local}} {{on_cluster}}
(
    project_id        LowCardinality(String),
    day               Date,
    host              LowCardinality(String),
    path              String CODEC(ZSTD(1)),
    metric            LowCardinality(String),
    value_quantiles   AggregateFunction(quantiles(0.5, 0.75, 0.95), Float64),
    samples           SimpleAggregateFunction(sum, UInt64),
    good              SimpleAggregateFunction(sum, UInt64),
    needs_improvement SimpleAggregateFunction(sum, UInt64),
    poor              SimpleAggregateFunction(sum, UInt64)
)
ENGINE = {{engine web_vitals_daily_state AggregatingMergeTree()}}
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, day, host, path, metric)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed web_vitals_daily_state cityHash64(project_id, path)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.web_vitals_daily_mv {{on_cluster}}
TO tidemark.web_vitals_daily_state{{local}}
AS SELECT
    project_id,
    toDate(timestamp) AS day,
    host,
    path,
    JSONExtractString(properties, 'name') AS metric,
    quantilesState(0.5, 0.75, 0.95)(JSONExtractFloat(properties, 'value')) AS value_quantiles,
    toUInt64(count()) AS samples,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'good')) AS good,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'needs-improvement')) AS needs_improvement,
    toUInt64(countIf(JSONExtractString(properties, 'rating') = 'poor')) AS poor
FROM tidemark.events{{local}}
WHERE type = 'track' AND event = '$web_vital' AND metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
GROUP BY project_id, day, host, path, metric;

-- Finalized vitals. Example: p75 LCP per page over the last 28 days, with the share of good samples:
--   SELECT path, quantilesMerge(0.5, 0.75, 0.95)(value_quantiles)[2] AS p75 …  (or, from this view, per day:)
--   SELECT day, path, p75, good / samples AS good_share FROM tidemark.web_vitals_daily
--   WHERE project_id = 'p' AND metric = 'LCP' ORDER BY day, path
CREATE VIEW IF NOT EXISTS tidemark.web_vitals_daily {{on_cluster}}
AS SELECT
    project_id,
    day,
    host,
    path,
    metric,
    quantilesMerge(0.5, 0.75, 0.95)(value_quantiles) AS q,
    q[1] AS p50,
    q[2] AS p75,
    q[3] AS p95,
    sum(samples) AS samples,
    sum(good) AS good,
    sum(needs_improvement) AS needs_improvement,
    sum(poor) AS poor
FROM tidemark.web_vitals_daily_state
GROUP BY project_id, day, host, path, metric;
