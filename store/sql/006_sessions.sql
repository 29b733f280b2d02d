-- Sessions (DESIGN §5): one state row per project and session_id, fed by every event of the session, merged
-- by AggregatingMergeTree and finalized by the view tidemark.sessions. A session's start and end come from all
-- its events (a click after the last page view still extends it); entry page, exit page, page count and bounce
-- come from its page views only.

CREATE TABLE IF NOT EXISTS tidemark.sessions_state{{local}} {{on_cluster}}
(
    project_id   LowCardinality(String),
    session_id   String,
    start_state  AggregateFunction(min, DateTime64(3, 'UTC')),
    end_state    AggregateFunction(max, DateTime64(3, 'UTC')),
    -- The path of the first and the last page view, by event time.
    entry_state  AggregateFunction(argMinIf, String, DateTime64(3, 'UTC'), UInt8),
    exit_state   AggregateFunction(argMaxIf, String, DateTime64(3, 'UTC'), UInt8),
    pages_state  AggregateFunction(countIf, UInt8),
    events_state AggregateFunction(count),
    visitor      SimpleAggregateFunction(any, String)
)
ENGINE = {{engine sessions_state AggregatingMergeTree()}}
ORDER BY (project_id, session_id)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed sessions_state cityHash64(session_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.sessions_mv {{on_cluster}}
TO tidemark.sessions_state{{local}}
AS SELECT
    project_id,
    session_id,
    minState(timestamp) AS start_state,
    maxState(timestamp) AS end_state,
    argMinIfState(path, timestamp, type = 'page') AS entry_state,
    argMaxIfState(path, timestamp, type = 'page') AS exit_state,
    countIfState(type = 'page') AS pages_state,
    countState() AS events_state,
    any(anonymous_id) AS visitor
FROM tidemark.events{{local}}
WHERE session_id != ''
GROUP BY project_id, session_id;

-- Finalized sessions. Example: bounce rate and median duration per entry page of a project:
--   SELECT entry_path, count() AS sessions, avg(bounce) AS bounce_rate, quantile(0.5)(duration_ms) AS median_ms
--   FROM tidemark.sessions WHERE project_id = 'p' AND started_at >= now() - INTERVAL 7 DAY
--   GROUP BY entry_path ORDER BY sessions DESC
CREATE VIEW IF NOT EXISTS tidemark.sessions {{on_cluster}}
AS SELECT
    project_id,
    session_id,
    any(visitor) AS anonymous_id,
    minMerge(start_state) AS started_at,
    maxMerge(end_state) AS ended_at,
    toUInt64(dateDiff('millisecond', started_at, ended_at)) AS duration_ms,
    argMinIfMerge(entry_state) AS entry_path,
    argMaxIfMerge(exit_state) AS exit_path,
    countIfMerge(pages_state) AS page_views,
    countMerge(events_state) AS events,
    page_views = 1 AS bounce
FROM tidemark.sessions_state
GROUP BY project_id, session_id;
