-- Top pages: the most viewed pages with their visitors.
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   limit        UInt32                 how many pages to return
--
-- Returns host, path, pageviews, visitors (distinct anonymous ids that viewed the page); most views first,
-- then by host and path so that ties come back in a stable order.
--
-- Each event counts once: FINAL collapses the copies of a resent event (same event_id) that merges have not
-- removed yet; the rollups would count them. Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_limit=20 \
--     --queries-file queries/top_pages.sql

WITH
    events AS
    (
        SELECT *
        FROM tidemark.events FINAL
        WHERE project_id = {project:String}
          AND timestamp >= {from:DateTime64(3, 'UTC')}
          AND timestamp < {to:DateTime64(3, 'UTC')}
          AND bot_reason = ''
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
    )
SELECT host, path, count() AS pageviews, uniqExact(anonymous_id) AS visitors
FROM events
WHERE type = 'page'
GROUP BY host, path
ORDER BY pageviews DESC, host, path
LIMIT {limit:UInt32}
