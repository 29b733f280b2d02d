-- Sessions, bounce rate and session duration over time: one row per time bucket of the sessions' start.
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
--   interval     String                 bucket size: 'hour', 'day', 'week' (starting Monday) or 'month'
--   timezone     String                 time zone of the buckets, e.g. 'Europe/Berlin' (or 'UTC')
--
-- A session is the events sharing a session_id (set by the SDK; events without one are not in any session)
-- with at least one page view, counted from its events inside the range only. Returns bucket (local time in
-- `timezone`), sessions, bounces (sessions with exactly one page view), bounce_rate, avg_duration_ms and
-- median_duration_ms (first to last event of the session).
--
-- Read from tidemark.range_sessions (store/sql/views/03_range_sessions.sql): a session's rows of the rollup
-- tidemark.session_hours for the whole UTC hours of the range and of tidemark.events for the minutes before the
-- first and after the last whole hour, merged into one row per session: a session is counted from its events inside the
-- range, as on raw events.
-- Each event counts once: tidemark.events stores an event_id once (store/sql/008). Events flagged as bots are left out.
-- The buckets are those of each session's merged start, an exact time, so any time zone is read from the rollup,
-- whole-hour offset or not.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' \
--     --param_interval=week --param_timezone=UTC \
--     --queries-file queries/sessions_over_time.sql

WITH
    by_session AS
    (
        SELECT started_at, duration_ms, pageviews
        FROM tidemark.range_sessions(
            project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
            host = {host:String}, country = {country:String}, device_type = {device_type:String},
            filter = {filter:String})
    )
SELECT
    toDateTime(date_trunc({interval:String}, toDateTime(started_at, {timezone:String})), {timezone:String})
        AS bucket,
    count() AS sessions,
    countIf(pageviews = 1) AS bounces,
    bounces / sessions AS bounce_rate,
    avg(duration_ms) AS avg_duration_ms,
    -- A measured duration, not an interpolated one: the sorted value at floor(0.5 · n).
    quantileExact(0.5)(duration_ms) AS median_duration_ms
FROM by_session
GROUP BY bucket
ORDER BY bucket
