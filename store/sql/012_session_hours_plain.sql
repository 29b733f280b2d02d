-- Sessions per hour, in columns that are cheap to merge: the same rows as 010_session_hours.sql (one per project,
-- UTC hour, host, country, device type and session, holding what the session did in that hour), which this
-- replaces, with three changes that cut the session queries' time about fivefold (bench/read.ts):
--   - the first and last page views are plain tuples led by their time, merged with min and max, where 010 kept
--     argMinIf/argMaxIf states (reading and merging those states was four fifths of referrers.sql's time),
--   - the session and its visitor are 128-bit SipHash values of their ids, the same hash uniqExact keeps for a
--     string, so grouping by them is exact as uniqExact is, and needs no strings,
--   - `tidemark.session_rows(…)`, a parameterized view (store/sql/views/), gives the ready queries a session's
--     rows for a range: its whole hours from here and the same columns computed from tidemark.events for the
--     minutes at the range's edges. Every session query merges those per session, so a session is counted from
--     its events inside the range and the filters, exactly as on raw events.
-- Ties: of two page views in one millisecond, the entry is the one whose (host, path, …) sorts first, the exit the
-- one that sorts last; raw-event answers computed with argMin/argMax may pick either.

-- 010's view and table go first. Its view's name is not reused: a re-run of every migration (lost bookkeeping)
-- recreates 010's objects and this drops them again, while the view below keeps its creation time, which its
-- backfill counts from.
DROP VIEW IF EXISTS tidemark.session_hours_mv {{on_cluster}} SYNC;

{{cluster_only}} DROP TABLE IF EXISTS tidemark.session_hours_state {{on_cluster}} SYNC;

DROP TABLE IF EXISTS tidemark.session_hours_state{{local}} {{on_cluster}} SYNC;

CREATE TABLE IF NOT EXISTS tidemark.session_hours{{local}} {{on_cluster}}
(
    project_id  LowCardinality(String),
    hour        DateTime('UTC'),
    host        LowCardinality(String),
    country     LowCardinality(String),
    device_type LowCardinality(String),
    -- reinterpretAsUInt128(sipHash128(session_id)).
    session     UInt128,
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill    UInt8,
    -- reinterpretAsUInt128(sipHash128(anonymous_id)) of the session's visitor.
    visitor     SimpleAggregateFunction(any, UInt128),
    started_at  SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    ended_at    SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    pageviews   SimpleAggregateFunction(sum, UInt64),
    -- The first page view: its time, host, path, referrer host, utm_source, utm_medium and utm_campaign. Events
    -- other than page views give the latest possible time, so the min is a page view's whenever there is one.
    entry       SimpleAggregateFunction(min,
                    Tuple(DateTime64(3, 'UTC'), String, String, String, String, String, String)) CODEC(ZSTD(1)),
    -- The last page view: its time, host and path; other events give the earliest possible time.
    exit        SimpleAggregateFunction(max, Tuple(DateTime64(3, 'UTC'), String, String)) CODEC(ZSTD(1))
)
ENGINE = {{engine session_hours AggregatingMergeTree()}}
PARTITION BY toYYYYMM(hour)
ORDER BY (project_id, hour, host, country, device_type, session, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed session_hours cityHash64(session)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.session_hours_plain_mv {{on_cluster}}
TO tidemark.session_hours{{local}}
AS SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    reinterpretAsUInt128(sipHash128(session_id)) AS session,
    toUInt8(0) AS backfill,
    any(reinterpretAsUInt128(sipHash128(anonymous_id))) AS visitor,
    min(timestamp) AS started_at,
    max(timestamp) AS ended_at,
    toUInt64(countIf(type = 'page')) AS pageviews,
    min((if(type = 'page', timestamp, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')), toString(host), path,
         toString(referrer_host), toString(utm_source), toString(utm_medium), utm_campaign)) AS entry,
    max((if(type = 'page', timestamp, toDateTime64(0, 3, 'UTC')), toString(host), path)) AS exit
FROM tidemark.events{{local}}
WHERE session_id != '' AND bot_reason = ''
GROUP BY project_id, hour, host, country, device_type, session;

-- The backfill, as in 009_traffic_hourly.sql: rows stored before the view existed (by _inserted_at, to the second),
-- without stopping ingestion; re-running it replaces what an earlier run wrote.
DELETE FROM tidemark.session_hours{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.session_hours
SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    reinterpretAsUInt128(sipHash128(session_id)) AS session,
    toUInt8(1) AS backfill,
    any(reinterpretAsUInt128(sipHash128(anonymous_id))) AS visitor,
    min(timestamp) AS started_at,
    max(timestamp) AS ended_at,
    toUInt64(countIf(type = 'page')) AS pageviews,
    min((if(type = 'page', timestamp, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')), toString(host), path,
         toString(referrer_host), toString(utm_source), toString(utm_medium), utm_campaign)) AS entry,
    max((if(type = 'page', timestamp, toDateTime64(0, 3, 'UTC')), toString(host), path)) AS exit
FROM tidemark.events FINAL
WHERE session_id != '' AND bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'session_hours_plain_mv')
GROUP BY project_id, hour, host, country, device_type, session;
