-- The rollup a session `filter` reads (store/sql/views/01_filtered_sessions.sql): traffic_hours' rows (040) with
-- the session in their key. traffic_hours sums every session of an hour into one row per value, so it cannot say
-- which sessions a filter keeps, and until this table every filtered panel read the whole range from
-- tidemark.events: at 10M events, 0.5–1.9 s of CPU to find the sessions, then about 1 s per panel for their events.
-- Here a filter's sessions are the rows of one value (dimension 'browser', value 'Firefox'), a primary-key range,
-- and a filtered panel reads the rows of its dimension whose session is among them, a few bytes per row instead of
-- an event's columns.
--
-- One row per project, dimension ('' for every event, 'browser', 'os', 'page' for page views by path, 'event' for
-- custom events by name: the same rows 040's traffic_hours_mv gives each event), value, UTC hour, host, country,
-- device type, session and visitor number, and on the '' rows the event's distinct id (its user id when it has one,
-- else its anonymous id, as 032's distinct_id_hours), so a filtered overview counts people. Only events with a
-- session id: an event without one matches no filter.
CREATE TABLE IF NOT EXISTS tidemark.session_values{{local}} {{on_cluster}}
(
    project_id     LowCardinality(String),
    dimension      LowCardinality(String),
    value          String CODEC(ZSTD(1)),
    hour           DateTime('UTC'),
    host           LowCardinality(String),
    country        LowCardinality(String),
    device_type    LowCardinality(String),
    -- reinterpretAsUInt128(sipHash128(session_id)), as in session_hours (012).
    session        UInt128,
    visitor_number UInt64,
    -- reinterpretAsUInt128(sipHash128(distinct id)) on the '' rows; 0 on the others.
    id             UInt128,
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill       UInt8,
    events         SimpleAggregateFunction(sum, UInt64),
    pageviews      SimpleAggregateFunction(sum, UInt64)
)
ENGINE = {{engine session_values AggregatingMergeTree()}}
PARTITION BY toYYYYMM(hour)
-- A value's sessions are one range of the key: the filter's lookup.
ORDER BY (project_id, dimension, value, hour, host, country, device_type, session, visitor_number, id, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed session_values cityHash64(session)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.session_values_mv {{on_cluster}}
TO tidemark.session_values{{local}}
AS SELECT
    project_id,
    d.1 AS dimension,
    d.2 AS value,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    reinterpretAsUInt128(sipHash128(session_id)) AS session,
    visitor_number,
    if(dimension = '', reinterpretAsUInt128(sipHash128(if(user_id != '', user_id, anonymous_id))), toUInt128(0)) AS id,
    toUInt8(0) AS backfill,
    toUInt64(count()) AS events,
    toUInt64(countIf(type = 'page')) AS pageviews
FROM tidemark.events{{local}}
ARRAY JOIN
    arrayConcat(
        [('', ''), ('browser', toString(browser)), ('os', toString(os))],
        if(type = 'page', [('page', path)], []),
        if(type = 'track' AND NOT startsWith(event, '$'), [('event', toString(event))], [])) AS d
WHERE bot_reason = '' AND session_id != ''
GROUP BY project_id, dimension, value, hour, host, country, device_type, session, visitor_number, id;

-- The backfill, as in 009_traffic_hourly.sql: rows stored before the view existed (by _inserted_at, to the second),
-- without stopping ingestion; re-running it replaces what an earlier run wrote. FINAL for rows stored before 008
-- that may still hold copies.
DELETE FROM tidemark.session_values{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.session_values
SELECT
    project_id,
    d.1 AS dimension,
    d.2 AS value,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    reinterpretAsUInt128(sipHash128(session_id)) AS session,
    visitor_number,
    if(dimension = '', reinterpretAsUInt128(sipHash128(if(user_id != '', user_id, anonymous_id))), toUInt128(0)) AS id,
    toUInt8(1) AS backfill,
    toUInt64(count()) AS events,
    toUInt64(countIf(type = 'page')) AS pageviews
FROM tidemark.events FINAL
ARRAY JOIN
    arrayConcat(
        [('', ''), ('browser', toString(browser)), ('os', toString(os))],
        if(type = 'page', [('page', path)], []),
        if(type = 'track' AND NOT startsWith(event, '$'), [('event', toString(event))], [])) AS d
WHERE bot_reason = '' AND session_id != ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'session_values_mv')
GROUP BY project_id, dimension, value, hour, host, country, device_type, session, visitor_number, id;

-- Web Vitals samples get their session too, so that a filtered Web Vitals panel reads the kept sessions' samples
-- instead of every $web_vital event's JSON. In place, so that tidemark.web_vital_samples keeps its name for the
-- SQL written against it: a column, a view that fills it (011's view, which does not, is dropped), and the rows
-- written without it (session 0: sipHash128 of any id, even '', is not 0) written again with it. Safe to run
-- again: the new view keeps its creation time, which the backfill counts from, and the backfill's own rows
-- (backfill = 1) are replaced, as is whatever a re-run of 011 wrote.
ALTER TABLE tidemark.web_vital_samples{{local}} {{on_cluster}}
    ADD COLUMN IF NOT EXISTS session UInt128 AFTER path;

{{cluster_only}} ALTER TABLE tidemark.web_vital_samples {{on_cluster}} ADD COLUMN IF NOT EXISTS session UInt128 AFTER path;

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.web_vital_samples_session_mv {{on_cluster}}
TO tidemark.web_vital_samples{{local}}
AS SELECT
    project_id,
    JSONExtractString(properties, 'name') AS metric,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    path,
    reinterpretAsUInt128(sipHash128(session_id)) AS session,
    JSONExtractFloat(properties, 'value') AS value,
    JSONExtractString(properties, 'rating') AS rating,
    toUInt8(0) AS backfill
FROM tidemark.events{{local}}
WHERE type = 'track' AND event = '$web_vital' AND bot_reason = '';

DROP VIEW IF EXISTS tidemark.web_vital_samples_mv {{on_cluster}} SYNC;

DELETE FROM tidemark.web_vital_samples{{local}} {{on_cluster}} WHERE session = 0 OR backfill = 1;

{{this_node}} INSERT INTO tidemark.web_vital_samples
SELECT
    project_id,
    JSONExtractString(properties, 'name') AS metric,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    path,
    reinterpretAsUInt128(sipHash128(session_id)) AS session,
    JSONExtractFloat(properties, 'value') AS value,
    JSONExtractString(properties, 'rating') AS rating,
    toUInt8(1) AS backfill
FROM tidemark.events FINAL
WHERE type = 'track' AND event = '$web_vital' AND bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'web_vital_samples_session_mv');
