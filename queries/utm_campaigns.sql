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
-- Read from the rollup tidemark.session_hours_state (store/sql/010_session_hours.sql) for the whole UTC hours of
-- the range, and from tidemark.events for the minutes before the first and after the last whole hour, merged per
-- session as the same states: a session is counted from its events inside the range, as on raw events. Each
-- event counts once: tidemark.events stores an event_id once (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_limit=20 \
--     --queries-file queries/utm_campaigns.sql

WITH
    -- The range's whole UTC hours [hours_from, hours_to): empty when the range lies within one hour.
    toStartOfHour({from:DateTime64(3, 'UTC')}) AS from_hour,
    if(from_hour = {from:DateTime64(3, 'UTC')}, from_hour, from_hour + INTERVAL 1 HOUR) AS hours_from,
    greatest(toStartOfHour({to:DateTime64(3, 'UTC')}), hours_from) AS hours_to,
    -- Each session's rows: its whole hours from the rollup, its events in the edge minutes as the same states.
    session_states AS
    (
        SELECT session_id, visitor, pageviews, entry
        FROM tidemark.session_hours_state
        WHERE project_id = {project:String}
          AND hour >= hours_from
          AND hour < hours_to
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
        UNION ALL
        -- The edges; a constant false when the range starts and ends on the hour, so nothing is read.
        SELECT
            session_id,
            any(anonymous_id) AS visitor,
            toUInt64(countIf(type = 'page')) AS pageviews,
            argMinIfState(
                (toString(host), path, toString(referrer_host), toString(utm_source), toString(utm_medium),
                 utm_campaign),
                timestamp, type = 'page') AS entry
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
          AND session_id != ''
        GROUP BY session_id
    ),
    by_session AS
    (
        SELECT
            session_id,
            any(visitor) AS visitor,
            -- The first page view's utm_source, utm_medium and utm_campaign: the last three of the entry tuple,
            -- one argMin over the tuple keeps them from the same page view.
            argMinIfMerge(entry) AS entry,
            sum(pageviews) AS pageviews
        FROM session_states
        GROUP BY session_id
        HAVING pageviews > 0
    )
SELECT
    entry.4 AS utm_source,
    entry.5 AS utm_medium,
    entry.6 AS utm_campaign,
    count() AS sessions,
    uniqExact(visitor) AS visitors,
    countIf(pageviews = 1) / sessions AS bounce_rate
FROM by_session
WHERE utm_source != '' OR utm_medium != '' OR utm_campaign != ''
GROUP BY utm_source, utm_medium, utm_campaign
ORDER BY sessions DESC, utm_source, utm_medium, utm_campaign
LIMIT {limit:UInt32}
