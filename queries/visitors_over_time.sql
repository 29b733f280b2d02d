-- Visitors and page views over time: one row per time bucket (hour, day, week or month, in a time zone).
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   interval     String                 bucket size: 'hour', 'day', 'week' (starting Monday) or 'month'
--   timezone     String                 time zone of the buckets, e.g. 'Europe/Berlin' (or 'UTC')
--
-- Returns bucket (start of the bucket, local time in `timezone`), visitors (distinct anonymous ids with any
-- event in the bucket), pageviews. Buckets without events are absent; fill them in the client if a chart
-- needs them.
--
-- Each event counts once: FINAL collapses the copies of a resent event (same event_id) that merges have not
-- removed yet; the rollups would count them. Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_interval=day --param_timezone=UTC \
--     --queries-file queries/visitors_over_time.sql

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
    -- date_trunc answers a Date for day and longer units and a DateTime for shorter ones; one type for all.
    toDateTime(date_trunc({interval:String}, toDateTime(timestamp, {timezone:String})), {timezone:String})
        AS bucket,
    uniqExact(anonymous_id) AS visitors,
    countIf(type = 'page') AS pageviews
FROM events
GROUP BY bucket
ORDER BY bucket
