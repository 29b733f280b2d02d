-- Referrers: which sites send sessions, by the referrer of each session's first page view.
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
--   limit        UInt32                 how many referrers to return
--
-- Returns referrer_host ('' = no referrer: typed in, bookmarked, or stripped by the referring site's policy),
-- sessions, visitors, bounce_rate; most sessions first. A session that restarted after a timeout on an
-- internal link shows the site's own host.
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
--     --queries-file queries/referrers.sql

SELECT
    referrer_host,
    count() AS sessions,
    uniqExact(visitor) AS visitors,
    countIf(pageviews = 1) / sessions AS bounce_rate
FROM tidemark.range_sessions(
    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
    host = {host:String}, country = {country:String}, device_type = {device_type:String},
    filter = {filter:String})
GROUP BY referrer_host
ORDER BY sessions DESC, referrer_host
LIMIT {limit:UInt32}
