-- Sessions per hour, with the dashboard's filters in the key (DESIGN §5): one row per project, UTC hour, host,
-- country, device type and session, holding what the session did in that hour. The ready queries about sessions
-- (overview's sessions, bounces and durations, sessions_over_time, session_duration, entry_pages, exit_pages,
-- referrers, utm_campaigns) merge a session's rows over the whole hours of their range, plus the same states
-- computed from tidemark.events for the minutes at the range's edges, so a session is counted from its events
-- inside the range and the filters, exactly as on raw events.
--
-- Why a row per session and hour rather than per hour: a session's bounce, duration and entry page are only known
-- from all its events in the range, which no per-hour sum can hold. Most sessions fall in one hour, so this holds
-- about one row per session: an order of magnitude fewer rows than events, and only the columns a session needs.
-- Exact for the same reasons as 009_traffic_hourly.sql (each event reaches the view once; bots left out).

CREATE TABLE IF NOT EXISTS tidemark.session_hours_state{{local}} {{on_cluster}}
(
    project_id  LowCardinality(String),
    hour        DateTime('UTC'),
    host        LowCardinality(String),
    country     LowCardinality(String),
    device_type LowCardinality(String),
    session_id  String CODEC(ZSTD(1)),
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill    UInt8,
    visitor     SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    started_at  SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    ended_at    SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    pageviews   SimpleAggregateFunction(sum, UInt64),
    -- The first page view's host, path, referrer host, utm_source, utm_medium and utm_campaign, one tuple so that
    -- all six come from the same page view.
    entry       AggregateFunction(argMinIf, Tuple(String, String, String, String, String, String),
                    DateTime64(3, 'UTC'), UInt8),
    -- The last page view's host and path.
    exit        AggregateFunction(argMaxIf, Tuple(String, String), DateTime64(3, 'UTC'), UInt8)
)
ENGINE = {{engine session_hours_state AggregatingMergeTree()}}
PARTITION BY toYYYYMM(hour)
ORDER BY (project_id, hour, host, country, device_type, session_id, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed session_hours_state cityHash64(session_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.session_hours_mv {{on_cluster}}
TO tidemark.session_hours_state{{local}}
AS SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    session_id,
    toUInt8(0) AS backfill,
    any(anonymous_id) AS visitor,
    min(timestamp) AS started_at,
    max(timestamp) AS ended_at,
    toUInt64(countIf(type = 'page')) AS pageviews,
    argMinIfState(
        (toString(host), path, toString(referrer_host), toString(utm_source), toString(utm_medium), utm_campaign),
        timestamp, type = 'page') AS entry,
    argMaxIfState((toString(host), path), timestamp, type = 'page') AS exit
FROM tidemark.events{{local}}
WHERE session_id != '' AND bot_reason = ''
GROUP BY project_id, hour, host, country, device_type, session_id;

-- The backfill, as in 009_traffic_hourly.sql: rows stored before the view existed (by _inserted_at, to the second),
-- without stopping ingestion; re-running it replaces what an earlier run wrote.
DELETE FROM tidemark.session_hours_state{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.session_hours_state
SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    session_id,
    toUInt8(1) AS backfill,
    any(anonymous_id) AS visitor,
    min(timestamp) AS started_at,
    max(timestamp) AS ended_at,
    toUInt64(countIf(type = 'page')) AS pageviews,
    argMinIfState(
        (toString(host), path, toString(referrer_host), toString(utm_source), toString(utm_medium), utm_campaign),
        timestamp, type = 'page') AS entry,
    argMaxIfState((toString(host), path), timestamp, type = 'page') AS exit
FROM tidemark.events FINAL
WHERE session_id != '' AND bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'session_hours_mv')
GROUP BY project_id, hour, host, country, device_type, session_id;
