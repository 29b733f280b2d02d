-- UTM campaigns: sessions per utm_source, utm_medium and utm_campaign of each session's first page view.
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   limit        UInt32                 how many rows to return
--
-- Sessions whose first page view carries no UTM parameter are left out. Returns utm_source, utm_medium,
-- utm_campaign, sessions, visitors, bounce_rate; most sessions first.
--
-- Each event counts once: FINAL collapses the copies of a resent event (same event_id) that merges have not
-- removed yet; the rollups would count them. Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_limit=20 \
--     --queries-file queries/utm_campaigns.sql

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
    ),
    by_session AS
    (
        SELECT
            session_id,
            any(anonymous_id) AS visitor,
            -- One argMinIf over the tuple keeps the three values of the same (first) page view together.
            argMinIf((utm_source, utm_medium, utm_campaign), timestamp, type = 'page') AS utm,
            countIf(type = 'page') AS pageviews
        FROM events
        WHERE session_id != ''
        GROUP BY session_id
        HAVING pageviews > 0
    )
SELECT
    utm.1 AS utm_source,
    utm.2 AS utm_medium,
    utm.3 AS utm_campaign,
    count() AS sessions,
    uniqExact(visitor) AS visitors,
    countIf(pageviews = 1) / sessions AS bounce_rate
FROM by_session
WHERE utm_source != '' OR utm_medium != '' OR utm_campaign != ''
GROUP BY utm_source, utm_medium, utm_campaign
ORDER BY sessions DESC, utm_source, utm_medium, utm_campaign
LIMIT {limit:UInt32}
