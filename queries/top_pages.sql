-- Top pages: the most viewed pages with their visitors.
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
-- Returns host, path, pageviews, visitors (distinct anonymous ids that viewed the page); most views first,
-- then by host and path so that ties come back in a stable order.
--
-- Read through tidemark.page_rows (store/sql/views/04_page_rows.sql): whole UTC days from the daily rollup when no
-- country or device filter is set, the other whole hours from tidemark.traffic_hours (040), and the minutes before the
-- first and after the last whole hour from tidemark.events; the visitors of all three merge as bitmaps of their numbers
-- (store/sql/040). Each event counts once: tidemark.events stores an event_id once (store/sql/008). Events flagged as
-- bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' --param_limit=20 \
--     --queries-file queries/top_pages.sql

WITH
    -- The most viewed pages first, from the page views alone: merging the visitor sets, the costly part, is then
    -- done for these pages only.
    top AS
    (
        SELECT host, path
        FROM tidemark.page_rows(
            project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
            host = {host:String}, country = {country:String}, device_type = {device_type:String},
            filter = {filter:String})
        GROUP BY host, path
        ORDER BY sum(pageviews) DESC, host, path
        LIMIT {limit:UInt32}
    )
SELECT host, path, sum(pageviews) AS pageviews, groupBitmapMerge(visitors) AS visitors
FROM tidemark.page_rows(
    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
    host = {host:String}, country = {country:String}, device_type = {device_type:String},
    filter = {filter:String})
WHERE (host, path) IN (SELECT host, path FROM top)
GROUP BY host, path
ORDER BY pageviews DESC, host, path
LIMIT {limit:UInt32}
