-- Browsers: visitors and page views per browser, as the gateway parsed it from the User-Agent.
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
-- Returns browser ('' = not recognized), visitors (distinct anonymous ids; a visitor seen with two values
-- counts under both), pageviews; most visitors first.
--
-- Read through tidemark.traffic_rows (store/sql/views/06_traffic_rows.sql): the rollup tidemark.traffic_hours (040) for
-- the whole UTC hours of the range, tidemark.events for the minutes before the first and after the last whole hour; the
-- visitors of both merge as bitmaps of their numbers (store/sql/040). Each event counts once: tidemark.events stores an
-- event_id once (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' --param_limit=20 \
--     --queries-file queries/browsers.sql

SELECT value AS browser, groupBitmapMerge(visitors) AS visitors, sum(pageviews) AS pageviews
FROM tidemark.traffic_rows(
    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
    host = {host:String}, country = {country:String}, device_type = {device_type:String},
    filter = {filter:String},
    dimension = 'browser')
GROUP BY browser
ORDER BY visitors DESC, pageviews DESC, browser
LIMIT {limit:UInt32}
