-- Hourly page views and visitors per project, host and path (DESIGN §5), kept up to date by a materialized
-- view on every insert into tidemark.events. The target stores aggregate states, so parts from different
-- inserts (and shards) merge exactly; read the finalized numbers from the view tidemark.pageviews_hourly.
--
-- A retried insert (same insert_deduplication_token) is dropped by tidemark.events, but ClickHouse still pushes
-- it through the materialized views (measured on chDB 26.7: the rollup counted it twice). What keeps the
-- rollups exact is each target's own deduplication: the view's block carries a token derived from the insert's,
-- and non_replicated_deduplication_window (replicated tables: replicated_deduplication_window, on by default)
-- drops the repeat. Every rollup target therefore sets the window (sink/src/rollups.test.ts proves it).

CREATE TABLE IF NOT EXISTS tidemark.pageviews_hourly_state{{local}} {{on_cluster}}
(
    project_id LowCardinality(String),
    hour       DateTime('UTC'),
    host       LowCardinality(String),
    path       String CODEC(ZSTD(1)),
    -- Page views: a plain sum survives merges without a state.
    views      SimpleAggregateFunction(sum, UInt64),
    -- Distinct anonymous_id. uniq (adaptive sample, exact up to 65,536 visitors per hour and path) rather than
    -- uniqExact, whose state keeps every visitor's hash.
    visitors   AggregateFunction(uniq, String)
)
ENGINE = {{engine pageviews_hourly_state AggregatingMergeTree()}}
PARTITION BY toYYYYMM(hour)
ORDER BY (project_id, hour, host, path)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed pageviews_hourly_state cityHash64(project_id, path)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.pageviews_hourly_mv {{on_cluster}}
TO tidemark.pageviews_hourly_state{{local}}
AS SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    host,
    path,
    toUInt64(count()) AS views,
    uniqState(anonymous_id) AS visitors
FROM tidemark.events{{local}}
WHERE type = 'page'
GROUP BY project_id, hour, host, path;

-- The finalized rollup: one row per project, hour, host and path.
--   SELECT hour, sum(views) FROM tidemark.pageviews_hourly WHERE project_id = 'p' GROUP BY hour ORDER BY hour
CREATE VIEW IF NOT EXISTS tidemark.pageviews_hourly {{on_cluster}}
AS SELECT
    project_id,
    hour,
    host,
    path,
    sum(views) AS views,
    uniqMerge(visitors) AS visitors
FROM tidemark.pageviews_hourly_state
GROUP BY project_id, hour, host, path;
