-- Exit pages: the last page of sessions, and how often a view of that page was the last one.
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
-- A session's exit page is the host and path of its last page view inside the range. Returns host, path,
-- exits (sessions that ended there), pageviews (the page's views in sessions), exit_rate (exits / pageviews);
-- most exits first.
--
-- Read from tidemark.range_sessions (store/sql/views/03_range_sessions.sql): a session's rows of the rollup
-- tidemark.session_hours for the whole UTC hours of the range and of tidemark.events for the minutes before the
-- first and after the last whole hour, merged into one row per session: a session is counted from its events inside the
-- range, as on raw events; the pages' views through tidemark.page_rows (013), which stitches them the same way.
-- Each event counts once: tidemark.events stores an event_id once (store/sql/008). Events flagged as bots are
-- left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' --param_limit=20 \
--     --queries-file queries/exit_pages.sql

WITH
    exits AS
    (
        SELECT exit_host AS host, exit_path AS path, count() AS exits
        FROM tidemark.range_sessions(
            project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
            host = {host:String}, country = {country:String}, device_type = {device_type:String},
            filter = {filter:String})
        GROUP BY host, path
    ),
    -- Each page's views in sessions, from the daily and hourly page rollups and the edges' events (013).
    views AS
    (
        SELECT host, path, sum(session_pageviews) AS pageviews
        FROM tidemark.page_rows(
            project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
            host = {host:String}, country = {country:String}, device_type = {device_type:String},
            filter = {filter:String})
        GROUP BY host, path
    )
SELECT
    exits.host AS host,
    exits.path AS path,
    exits.exits AS exits,
    views.pageviews AS pageviews,
    exits / pageviews AS exit_rate
FROM exits
INNER JOIN views ON views.host = exits.host AND views.path = exits.path
ORDER BY exits DESC, host, path
LIMIT {limit:UInt32}
