-- Custom events: how often each of your track() events happened, and for how many visitors.
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   limit        UInt32                 how many event names to return
--
-- Counts track events whose name does not start with '$': those are the SDK's own (autocaptured clicks,
-- outbound links, Web Vitals). Returns event, events (exact count, each event id once), visitors,
-- sessions; most events first.
--
-- Each event counts once: FINAL collapses the copies of a resent event (same event_id) that merges have not
-- removed yet; the rollups would count them. Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_limit=50 \
--     --queries-file queries/custom_events.sql

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
SELECT
    event,
    count() AS events,
    uniqExact(anonymous_id) AS visitors,
    uniqExactIf(session_id, session_id != '') AS sessions
FROM events
WHERE type = 'track' AND NOT startsWith(event, '$')
GROUP BY event
ORDER BY events DESC, event
LIMIT {limit:UInt32}
