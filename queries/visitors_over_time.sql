-- Visitors and page views over time: one row per time bucket (hour, day, week or month, in a time zone).
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
--   interval     String                 bucket size: 'hour', 'day', 'week' (starting Monday) or 'month'
--   timezone     String                 time zone of the buckets, e.g. 'Europe/Berlin' (or 'UTC')
--
-- Returns bucket (start of the bucket, local time in `timezone`), visitors (distinct anonymous ids with any
-- event in the bucket), pageviews. Buckets without events are absent; fill them in the client if a chart
-- needs them.
--
-- Read from the rollup tidemark.traffic_hours (store/sql/040_visitor_numbers.sql) for the whole UTC hours of the range,
-- and from tidemark.events for the minutes before the first and after the last whole hour; the visitors of both merge
-- as bitmaps of their numbers (store/sql/040). In a time zone whose offset from UTC is not whole hours at `from` and
-- `to`, every bucket is read from tidemark.events. Each event counts once: tidemark.events stores an event_id once
-- (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' \
--     --param_interval=day --param_timezone=UTC \
--     --queries-file queries/visitors_over_time.sql

WITH
    -- The range's whole UTC hours [hours_from, hours_to): empty when the range lies within one hour.
    toStartOfHour({from:DateTime64(3, 'UTC')}) AS from_hour,
    if(from_hour = {from:DateTime64(3, 'UTC')}, from_hour, from_hour + INTERVAL 1 HOUR) AS hours_from,
    -- A UTC hour lies in one local hour (and day, week, month) only where the zone's offset is whole hours; in
    -- other zones (India, Nepal, Newfoundland, …) the rollup's hours are left out and the raw events answer.
    timeZoneOffset(toDateTime({from:DateTime64(3, 'UTC')}, {timezone:String})) % 3600 = 0
        AND timeZoneOffset(toDateTime({to:DateTime64(3, 'UTC')}, {timezone:String})) % 3600 = 0 AS whole_hours,
    if(whole_hours, greatest(toStartOfHour({to:DateTime64(3, 'UTC')}), hours_from), hours_from) AS hours_to,
    -- date_trunc answers a Date for day and longer units and a DateTime for shorter ones; one type for all.
    states AS
    (
        SELECT toDateTime(date_trunc({interval:String}, toDateTime(hour, {timezone:String})), {timezone:String}) AS bucket,
            pageviews, visitors
        FROM tidemark.traffic_hours
        WHERE project_id = {project:String}
          AND dimension = ''
          AND hour >= hours_from
          AND hour < hours_to
          AND {filter:String} = ''
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
        UNION ALL
        -- The filtered sessions' whole hours (store/sql/041_session_values.sql, with a `filter` only) and the edges
        -- (a constant false when the range starts and ends on the hour, so nothing is read), their sessions checked
        -- once for both.
        SELECT toDateTime(date_trunc({interval:String}, toDateTime(at, {timezone:String})), {timezone:String}) AS bucket,
            sum(row_pageviews) AS pageviews, groupBitmapState(visitor_number) AS visitors
        FROM
        (
            SELECT toDateTime64(hour, 3, 'UTC') AS at, pageviews AS row_pageviews, visitor_number, session
            FROM tidemark.session_values
            WHERE {filter:String} != ''
              AND project_id = {project:String}
              AND dimension = ''
              AND hour >= hours_from
              AND hour < hours_to
              AND ({host:String} = '' OR host = {host:String})
              AND ({country:String} = '' OR country = {country:String})
              AND ({device_type:String} = '' OR device_type = {device_type:String})
            UNION ALL
            SELECT timestamp AS at, toUInt64(type = 'page') AS row_pageviews, visitor_number,
                reinterpretAsUInt128(sipHash128(session_id)) AS session
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
        )
        WHERE {filter:String} = '' OR session GLOBAL IN (
                SELECT session FROM tidemark.filtered_sessions(
                    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
                    host = {host:String}, country = {country:String}, device_type = {device_type:String},
                    filter = {filter:String}))
        GROUP BY bucket
    )
SELECT
    bucket,
    groupBitmapMerge(visitors) AS visitors,
    sum(pageviews) AS pageviews
FROM states
GROUP BY bucket
ORDER BY bucket
