-- UTM campaigns: sessions per utm_source, utm_medium and utm_campaign of each session's first page view.
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
--   limit        UInt32                 how many rows to return
--
-- Sessions whose first page view carries no UTM parameter are left out. Returns utm_source, utm_medium,
-- utm_campaign, sessions, visitors, bounce_rate; most sessions first.
--
-- Read from tidemark.range_sessions (store/sql/views/03_range_sessions.sql): a session's rows of the rollup
-- tidemark.session_hours for the whole UTC hours of the range and of tidemark.events for the minutes before the
-- first and after the last whole hour, merged into one row per session: a session is counted from its events inside the
-- range, as on raw events. Only the sessions with a row whose first page view carries a UTM value are merged
-- (a session's first page view is one of its rows' first page views, so none is missed): about one in ten, where
-- merging every session of the range took two thirds of the query's CPU.
-- Each event counts once: tidemark.events stores an event_id once (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' --param_limit=20 \
--     --queries-file queries/utm_campaigns.sql

SELECT
    utm_source,
    utm_medium,
    utm_campaign,
    count() AS sessions,
    uniqExact(visitor) AS visitors,
    countIf(pageviews = 1) / sessions AS bounce_rate
FROM tidemark.range_sessions(
    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
    host = {host:String}, country = {country:String}, device_type = {device_type:String},
    filter = {filter:String})
WHERE (utm_source != '' OR utm_medium != '' OR utm_campaign != '')
  AND session GLOBAL IN (
      SELECT session
      FROM tidemark.session_rows(
          project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
          host = {host:String}, country = {country:String}, device_type = {device_type:String},
          filter = {filter:String})
      WHERE entry.5 != '' OR entry.6 != '' OR entry.7 != '')
GROUP BY utm_source, utm_medium, utm_campaign
ORDER BY sessions DESC, utm_source, utm_medium, utm_campaign
LIMIT {limit:UInt32}
