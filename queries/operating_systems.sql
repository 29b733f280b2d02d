-- Operating systems: visitors and page views per OS, as the gateway parsed it from the User-Agent.
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   limit        UInt32                 how many rows to return
--
-- Returns os ('' = not recognized), visitors (distinct anonymous ids; a visitor seen with two values counts
-- under both), pageviews; most visitors first.
--
-- Read from the rollup tidemark.traffic_hourly_state (store/sql/009_traffic_hourly.sql) for the whole UTC hours
-- of the range, and from tidemark.events for the minutes before the first and after the last whole hour; the
-- visitors of both merge as exact uniqExact states. Each event counts once: tidemark.events stores an event_id
-- once (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_limit=20 \
--     --queries-file queries/operating_systems.sql

WITH
    -- The range's whole UTC hours [hours_from, hours_to): empty when the range lies within one hour.
    toStartOfHour({from:DateTime64(3, 'UTC')}) AS from_hour,
    if(from_hour = {from:DateTime64(3, 'UTC')}, from_hour, from_hour + INTERVAL 1 HOUR) AS hours_from,
    greatest(toStartOfHour({to:DateTime64(3, 'UTC')}), hours_from) AS hours_to,
    states AS
    (
        SELECT value AS os, pageviews, visitors
        FROM tidemark.traffic_hourly_state
        WHERE project_id = {project:String}
          AND dimension = 'os'
          AND hour >= hours_from
          AND hour < hours_to
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
        UNION ALL
        -- The edges; a constant false when the range starts and ends on the hour, so nothing is read.
        SELECT toString(os) AS os, toUInt64(countIf(type = 'page')) AS pageviews, uniqExactState(anonymous_id) AS visitors
        FROM tidemark.events
        WHERE (hours_from != {from:DateTime64(3, 'UTC')} OR hours_to != {to:DateTime64(3, 'UTC')})
          AND project_id = {project:String}
          AND timestamp >= {from:DateTime64(3, 'UTC')}
          AND timestamp < {to:DateTime64(3, 'UTC')}
          AND (timestamp < hours_from OR timestamp >= hours_to)
          AND bot_reason = ''
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
        GROUP BY os
    )
SELECT os, uniqExactMerge(visitors) AS visitors, sum(pageviews) AS pageviews
FROM states
GROUP BY os
ORDER BY visitors DESC, pageviews DESC, os
LIMIT {limit:UInt32}
