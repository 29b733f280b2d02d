-- Funnel: how many visitors went through a sequence of steps, in order, within a time window.
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   filter       String                 more filters, each keeping the sessions that match it, as a URL query
--                                       string: page=%2Fpricing&browser=Firefox ('' = none; the keys are in
--                                       store/sql/views/01_filtered_sessions.sql). Set, it reads tidemark.events.
--   steps        Array(String)          1 to 8 steps, in order. A step starting with '/' is a page view of
--                                       that path; any other step is a track event of that name.
--   window       UInt32                 seconds after a visitor's first step within which later steps count
--   count_by     String                 'person' (the default) or 'visitor': who goes through the funnel. A
--                                       person's events from every device and before and after logging in
--                                       count together (store/sql/030_person_links.sql); a visitor is one
--                                       anonymous id. `visitors` then counts people or anonymous ids.
--
-- Built on windowFunnel, per visitor (anonymous_id): a visitor reaches step k when steps 1…k happened in this
-- order with step k at most `window` seconds after step 1; other events in between do not matter. Returns one
-- row per step: step (1-based), name, visitors (who reached it), conversion (visitors / visitors of step 1)
-- and step_conversion (visitors / visitors of the step before; 1 for step 1). Conversions are 0 when nobody
-- reached step 1.
--
-- No FINAL: tidemark.events stores an event_id once (store/sql/008), and a copy that check cannot see (stored
-- before 008, resent after its 30-day window, or through another node of a cluster) has its original's time and
-- step, so it cannot change the step a visitor reached. Reading without FINAL takes a third of the CPU (bench/read.ts
-- at 10M events). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' \
--     --param_steps="['/pricing','Signup Started','Signup Completed']" --param_window=3600 --param_count_by=person \
--     --queries-file queries/funnel.sql

WITH
    -- The steps' events only, so that the join with the people below meets no other event.
    events AS
    (
        SELECT anonymous_id, user_id, timestamp, multiIf(type = 'page', path, type = 'track', event, '') AS step
        FROM tidemark.events
        WHERE project_id = {project:String}
          AND timestamp >= {from:DateTime64(3, 'UTC')}
          AND timestamp < {to:DateTime64(3, 'UTC')}
          AND bot_reason = ''
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
          AND ({filter:String} = '' OR reinterpretAsUInt128(sipHash128(session_id)) GLOBAL IN (
                SELECT session FROM tidemark.filtered_sessions(
                    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
                    host = {host:String}, country = {country:String}, device_type = {device_type:String},
                    filter = {filter:String})))
          AND step != ''
          AND has({steps:Array(String)}, step)
    ),
    levels AS
    (
        -- windowFunnel takes one condition per step, so there is a fixed number of slots; a step past the
        -- array's end reads '' and matches nothing, because events without a step key are filtered out.
        -- Milliseconds, not DateTime seconds, so that two steps within one second keep their order.
        SELECT
            actor,
            windowFunnel(toUInt64({window:UInt32}) * 1000)(
                toUInt64(toUnixTimestamp64Milli(timestamp)),
                step = {steps:Array(String)}[1], step = {steps:Array(String)}[2],
                step = {steps:Array(String)}[3], step = {steps:Array(String)}[4],
                step = {steps:Array(String)}[5], step = {steps:Array(String)}[6],
                step = {steps:Array(String)}[7], step = {steps:Array(String)}[8]) AS level
        FROM
        (
            SELECT
                if({count_by:String} = 'visitor', e.anonymous_id,
                    if(pm.person_id != '', pm.person_id, if(e.user_id != '', e.user_id, e.anonymous_id))) AS actor,
                e.timestamp AS timestamp,
                e.step AS step
            FROM events AS e
            LEFT JOIN tidemark.person_map(project = {project:String}) AS pm
                ON pm.distinct_id = if(e.user_id != '', e.user_id, e.anonymous_id)
        )
        GROUP BY actor
    ),
    reached AS
    (
        -- An aggregate without GROUP BY answers one row even when nobody matched a step, so every step gets
        -- its row (with 0) instead of the result coming back empty.
        SELECT
            arraySlice(
                [countIf(level >= 1), countIf(level >= 2), countIf(level >= 3), countIf(level >= 4),
                 countIf(level >= 5), countIf(level >= 6), countIf(level >= 7), countIf(level >= 8)],
                1, length({steps:Array(String)})) AS visitors_per_step
        FROM levels
    )
SELECT
    step,
    {steps:Array(String)}[step] AS name,
    visitors,
    if(first_value(visitors) OVER w = 0, 0, visitors / first_value(visitors) OVER w) AS conversion,
    if(step = 1, 1, if(lagInFrame(visitors) OVER w = 0, 0, visitors / lagInFrame(visitors) OVER w))
        AS step_conversion
FROM reached
ARRAY JOIN visitors_per_step AS visitors, arrayEnumerate(visitors_per_step) AS step
WHERE throwIf(length({steps:Array(String)}) NOT BETWEEN 1 AND 8, 'funnel.sql takes 1 to 8 steps') = 0
  AND throwIf({count_by:String} NOT IN ('person', 'visitor'), 'count_by is person or visitor') = 0
WINDOW w AS (ORDER BY step ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY step
