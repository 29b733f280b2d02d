-- Retention cohorts: of the visitors first seen in a period, how many came back in each later period.
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
--   interval     String                 period: 'day', 'week' (starting Monday) or 'month'
--   timezone     String                 time zone of the periods, e.g. 'Europe/Berlin' (or 'UTC')
--   count_by     String                 'person' (the default) or 'visitor': a person's devices and log-ins
--                                       count as one (store/sql/030_person_links.sql); a visitor is one
--                                       anonymous id. `visitors` and `cohort_size` then count people.
--
-- A visitor (anonymous_id) belongs to the cohort of the period of their first event ever, if that event is
-- inside the range; visitors first seen before `from` are in no cohort. A visitor is active in a period when
-- they sent any event in it, up to `to`. With a `filter`, only the events of the sessions it keeps make a visitor
-- active, and the cohort is the first period they were active in; who is new is still decided by every event. Returns cohort (start of the period, local time in `timezone`),
-- period (0 = the cohort's own, 1 = the next, …), cohort_size, visitors (active in that period), share
-- (visitors / cohort_size). Periods in which nobody of the cohort came back are absent. With a TTL on raw
-- events, "first seen" means first seen within the kept days.
--
-- No FINAL here, on purpose: a first event and the set of active periods are the same with or without the
-- copies of a resent event, and this query reads all of a project's history before `to`, where merging at
-- read time would cost the most. Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' \
--     --param_interval=week --param_timezone=UTC \
--     --param_count_by=person \
--     --queries-file queries/retention.sql

WITH
    -- Each id's periods with its first event in each: the events grouped first (about a row per visitor and
    -- period), so that the join with the people below meets those rows, not every event.
    history AS
    (
        SELECT
            if({count_by:String} = 'visitor', e.anonymous_id,
               if(pm.person_id != '', pm.person_id, if(e.user_id != '', e.user_id, e.anonymous_id))) AS actor,
            e.first_at AS timestamp,
            e.period_start AS period_start,
            e.matched AS matched
        FROM
        (
            SELECT
                anonymous_id,
                user_id,
                toDateTime(
                    date_trunc({interval:String}, toDateTime(timestamp, {timezone:String})), {timezone:String})
                    AS period_start,
                min(timestamp) AS first_at,
                -- Whether these events belong to sessions the filter keeps (all do without one): every event
                -- decides who is new, only the kept ones who was active.
                {filter:String} = '' OR reinterpretAsUInt128(sipHash128(session_id)) GLOBAL IN (
                    SELECT session FROM tidemark.filtered_sessions(
                        project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
                        host = {host:String}, country = {country:String}, device_type = {device_type:String},
                        filter = {filter:String})) AS matched
            FROM tidemark.events
            WHERE project_id = {project:String}
              AND timestamp < {to:DateTime64(3, 'UTC')}
              AND bot_reason = ''
              AND ({host:String} = '' OR host = {host:String})
              AND ({country:String} = '' OR country = {country:String})
              AND ({device_type:String} = '' OR device_type = {device_type:String})
            GROUP BY anonymous_id, user_id, period_start, matched
        ) AS e
        LEFT JOIN tidemark.person_map(project = {project:String}) AS pm
            ON pm.distinct_id = if(e.user_id != '', e.user_id, e.anonymous_id)
        WHERE throwIf({count_by:String} NOT IN ('person', 'visitor'), 'count_by is person or visitor') = 0
    ),
    cohorts AS
    (
        SELECT
            actor,
            -- groupUniqArray keeps the instants but drops the time zone from its result type; put back, the
            -- zone makes the cohort print, and dateDiff count periods, as asked.
            arrayMap(p -> toDateTime(p, {timezone:String}), groupUniqArrayIf(period_start, matched)) AS active,
            arrayMin(active) AS cohort,
            arrayMap(p -> dateDiff({interval:String}, cohort, p), active) AS periods
        FROM history
        GROUP BY actor
        HAVING min(timestamp) >= {from:DateTime64(3, 'UTC')} AND notEmpty(active)
    )
SELECT
    cohort,
    period,
    max(count()) OVER (PARTITION BY cohort) AS cohort_size,
    count() AS visitors,
    visitors / cohort_size AS share
FROM cohorts
ARRAY JOIN periods AS period
GROUP BY cohort, period
ORDER BY cohort, period
