-- Entry pages: where sessions start, and how often they end on that same single page (bounce).
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
--   limit        UInt32                 how many pages to return
--
-- A session's entry page is the host and path of its first page view inside the range; sessions without a
-- page view have none and are left out. Returns host, path, entries (sessions that started there), visitors,
-- bounces (of those sessions, the ones with exactly one page view), bounce_rate; most entries first.
--
-- Read from tidemark.range_sessions (store/sql/views/03_range_sessions.sql): a session's rows of the rollup
-- tidemark.session_hours for the whole UTC hours of the range and of tidemark.events for the minutes before the
-- first and after the last whole hour, merged into one row per session: a session is counted from its events inside the
-- range, as on raw events.
-- Each event counts once: tidemark.events stores an event_id once (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' --param_limit=20 \
--     --queries-file queries/entry_pages.sql

SELECT
    entry_host AS host,
    entry_path AS path,
    count() AS entries,
    uniqExact(visitor) AS visitors,
    countIf(pageviews = 1) AS bounces,
    bounces / entries AS bounce_rate
FROM tidemark.range_sessions(
    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
    host = {host:String}, country = {country:String}, device_type = {device_type:String},
    filter = {filter:String})
GROUP BY host, path
ORDER BY entries DESC, host, path
LIMIT {limit:UInt32}
