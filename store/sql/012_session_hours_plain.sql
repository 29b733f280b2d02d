-- Sessions per hour, in columns that are cheap to merge: the same rows as 010_session_hours.sql (one per project,
-- UTC hour, host, country, device type and session, holding what the session did in that hour), which this
-- replaces, with three changes that cut the session queries' time about fivefold (bench/read.ts):
--   - the first and last page views are plain tuples led by their time, merged with min and max, where 010 kept
--     argMinIf/argMaxIf states (reading and merging those states was four fifths of referrers.sql's time),
--   - the session and its visitor are 128-bit SipHash values of their ids, the same hash uniqExact keeps for a
--     string, so grouping by them is exact as uniqExact is, and needs no strings,
--   - `tidemark.session_rows(…)`, a parameterized view, gives the ready queries a session's rows for a range:
--     its whole hours from here and the same columns computed from tidemark.events for the minutes at the range's
--     edges. Every session query merges those per session, so a session is counted from its events inside the
--     range and the filters, exactly as on raw events.
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

-- A session's rows for a range and the dashboard's filters: whole UTC hours from tidemark.session_hours, and the
-- minutes before the first and after the last whole hour from tidemark.events, in the same columns. The rows of
-- one session are merged by the query (GROUP BY session). Parameters as in the ready queries: project; from and
-- to (DateTime64(3, 'UTC'), `from` included); host, country, device_type ('' = any).
CREATE VIEW IF NOT EXISTS tidemark.session_rows {{on_cluster}} AS
WITH
    {{range_hours}}
SELECT session, visitor, started_at, ended_at, pageviews, entry, exit
FROM tidemark.session_hours
WHERE project_id = {project:String}
  AND hour >= hours_from
  AND hour < hours_to
  {{filters}}
UNION ALL
-- The edges; a constant false when the range starts and ends on the hour, so nothing is read.
SELECT
    reinterpretAsUInt128(sipHash128(session_id)) AS session,
    any(reinterpretAsUInt128(sipHash128(anonymous_id))) AS visitor,
    min(timestamp) AS started_at,
    max(timestamp) AS ended_at,
    toUInt64(countIf(type = 'page')) AS pageviews,
    min((if(type = 'page', timestamp, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')), toString(host), path,
         toString(referrer_host), toString(utm_source), toString(utm_medium), utm_campaign)) AS entry,
    max((if(type = 'page', timestamp, toDateTime64(0, 3, 'UTC')), toString(host), path)) AS exit
FROM tidemark.events
{{edge_minutes}}
  {{filters}}
  AND session_id != ''
GROUP BY session;

-- The sessions of a range, one row each, merged from tidemark.session_rows(…): only visits (sessions with a page
-- view in the range: a session of events without one, say a Web Vital sent after it timed out, is not a session a
-- reader would count). Its first page view's host, path, referrer host and UTM, its last page view's host and
-- path, and its duration from its first to its last event in the range. The session queries read this; columns a
-- query does not name are not computed.
CREATE VIEW IF NOT EXISTS tidemark.range_sessions {{on_cluster}} AS
SELECT
    session,
    any(visitor) AS visitor,
    min(started_at) AS started_at,
    dateDiff('millisecond', started_at, max(ended_at)) AS duration_ms,
    sum(pageviews) AS pageviews,
    -- The first page view's fields, each taken by its time alone (argMin reads the two columns of the tuple).
    argMin((entry.2, entry.3), entry.1) AS entry_page,
    entry_page.1 AS entry_host,
    entry_page.2 AS entry_path,
    argMin(entry.4, entry.1) AS referrer_host,
    argMin((entry.5, entry.6, entry.7), entry.1) AS utm,
    utm.1 AS utm_source,
    utm.2 AS utm_medium,
    utm.3 AS utm_campaign,
    argMax((exit.2, exit.3), exit.1) AS exit_page,
    exit_page.1 AS exit_host,
    exit_page.2 AS exit_path
FROM tidemark.session_rows(
    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
    host = {host:String}, country = {country:String}, device_type = {device_type:String})
GROUP BY session
HAVING pageviews > 0;
