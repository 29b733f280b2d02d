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
-- Read from the rollup tidemark.traffic_hourly_state (store/sql/009_traffic_hourly.sql) for the whole UTC hours
-- of the range, and from tidemark.events for the minutes before the first and after the last whole hour; the
-- visitors of both merge as exact uniqExact states. Each event counts once: tidemark.events stores an event_id
-- once (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_limit=50 \
--     --queries-file queries/custom_events.sql

WITH
    -- The range's whole UTC hours [hours_from, hours_to): empty when the range lies within one hour.
    toStartOfHour({from:DateTime64(3, 'UTC')}) AS from_hour,
    if(from_hour = {from:DateTime64(3, 'UTC')}, from_hour, from_hour + INTERVAL 1 HOUR) AS hours_from,
    greatest(toStartOfHour({to:DateTime64(3, 'UTC')}), hours_from) AS hours_to,
    states AS
    (
        SELECT value AS event, events, visitors, sessions
        FROM tidemark.traffic_hourly_state
        WHERE project_id = {project:String}
          AND dimension = 'event'
          AND hour >= hours_from
          AND hour < hours_to
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
        UNION ALL
        -- The edges; a constant false when the range starts and ends on the hour, so nothing is read.
        SELECT toString(event) AS event, toUInt64(count()) AS events, uniqExactState(anonymous_id) AS visitors,
            uniqExactIfState(session_id, session_id != '') AS sessions
        FROM tidemark.events
        WHERE (hours_from != {from:DateTime64(3, 'UTC')} OR hours_to != {to:DateTime64(3, 'UTC')})
          AND project_id = {project:String}
          AND timestamp >= {from:DateTime64(3, 'UTC')}
          AND timestamp < {to:DateTime64(3, 'UTC')}
          AND (timestamp < hours_from OR timestamp >= hours_to)
          AND bot_reason = ''
          AND type = 'track'
          AND NOT startsWith(event, '$')
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
        GROUP BY event
    )
SELECT event, sum(events) AS events, uniqExactMerge(visitors) AS visitors, uniqExactIfMerge(sessions) AS sessions
FROM states
GROUP BY event
ORDER BY events DESC, event
LIMIT {limit:UInt32}
