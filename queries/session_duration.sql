-- Session duration distribution: how many sessions lasted how long, in fixed ranges.
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   filter       String                 more filters, each keeping the sessions that match it, as a URL query
--                                       string: page=%2Fpricing&browser=Firefox ('' = none; the keys are in
--                                       store/sql/views/01_filtered_sessions.sql). Set, it reads the kept
--                                       sessions' rows of session_values (store/sql/041) or session_hours.
--
-- A session (a session id with at least one page view) lasts from its first to its last event inside the
-- range: one page view and nothing after it is 0 s. Returns one row per range, shortest first, including
-- empty ranges: range ('0-10s', '10-30s', '30-60s', '1-3m', '3-10m', '10-30m', '30m+'), min_seconds (where it
-- starts), sessions, share (of all sessions; 0 when there are none).
--
-- Read from tidemark.range_sessions (store/sql/views/03_range_sessions.sql): a session's rows of the rollup
-- tidemark.session_hours for the whole UTC hours of the range and of tidemark.events for the minutes before the
-- first and after the last whole hour, merged into one row per session: a session is counted from its events inside the
-- range, as on raw events.
-- Each event counts once: tidemark.events stores an event_id once (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' \
--     --queries-file queries/session_duration.sql

WITH
    by_session AS
    (
        SELECT duration_ms
        FROM tidemark.range_sessions(
            project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
            host = {host:String}, country = {country:String}, device_type = {device_type:String},
            filter = {filter:String})
    ),
    ranges AS
    (
        SELECT
            arrayJoin([(0, '0-10s'), (10, '10-30s'), (30, '30-60s'), (60, '1-3m'), (180, '3-10m'),
                       (600, '10-30m'), (1800, '30m+')]) AS r,
            r.1 AS min_seconds,
            r.2 AS range
    ),
    counted AS
    (
        -- Each session falls in the last range whose lower bound it reaches; the bounds must stay sorted.
        SELECT
            arrayLast(b -> duration_ms >= b * 1000, [0, 10, 30, 60, 180, 600, 1800]) AS min_seconds,
            count() AS sessions
        FROM by_session
        GROUP BY min_seconds
    )
SELECT
    ranges.range AS range,
    ranges.min_seconds AS min_seconds,
    counted.sessions AS sessions,
    if(sum(counted.sessions) OVER () = 0, 0, counted.sessions / sum(counted.sessions) OVER ()) AS share
FROM ranges
LEFT JOIN counted ON counted.min_seconds = ranges.min_seconds
ORDER BY min_seconds
