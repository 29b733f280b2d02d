-- Overview: the headline numbers of a project over a time range, in one row: visitors, page views, sessions,
-- bounce rate, average and median session duration, page views per session.
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
--
-- Returns one row: visitors (distinct anonymous ids with any event), people (distinct persons: an anonymous id
-- counts as the user it was identified as, store/sql/030_person_links.sql, so one person on three devices is one),
-- pageviews, sessions (session ids with at
-- least one page view inside the range), bounces, bounce_rate (share of sessions with exactly one page view),
-- avg_duration_ms, median_duration_ms (first to last event of a session inside the range),
-- pageviews_per_session. Ratios are 0 when there are no sessions.
--
-- Read from the rollups for the whole UTC hours of the range (through tidemark.traffic_rows of store/sql/views/06 for
-- visitors and page views, tidemark.range_sessions of store/sql/views/03_range_sessions.sql for sessions), and from
-- tidemark.events for the minutes before the first and after the last whole hour, merged as the same exact
-- states: every number equals the raw events' answer. Each event counts once: tidemark.events stores an event_id
-- once (store/sql/008). Events flagged as bots (bot_reason not empty) are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host= --param_country= --param_device_type= --param_filter= --queries-file queries/overview.sql

WITH
    by_session AS
    (
        SELECT duration_ms, pageviews
        FROM tidemark.range_sessions(
            project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
            host = {host:String}, country = {country:String}, device_type = {device_type:String},
            filter = {filter:String})
    )
SELECT
    totals.visitors AS visitors,
    persons.people AS people,
    totals.pageviews AS pageviews,
    per_session.sessions AS sessions,
    per_session.bounces AS bounces,
    if(sessions = 0, 0, bounces / sessions) AS bounce_rate,
    per_session.avg_duration_ms AS avg_duration_ms,
    per_session.median_duration_ms AS median_duration_ms,
    if(sessions = 0, 0, per_session.session_pageviews / sessions) AS pageviews_per_session
FROM
(
    SELECT groupBitmapMerge(visitors) AS visitors, sum(pageviews) AS pageviews
    FROM tidemark.traffic_rows(
        project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
        host = {host:String}, country = {country:String}, device_type = {device_type:String},
        filter = {filter:String}, dimension = '')
) AS totals
CROSS JOIN
(
    -- The range's distinct ids (store/sql/032: about one row per visitor and hour, plus the edge minutes),
    -- each resolved to its person at read time: a later identify can claim earlier anonymous events, so no
    -- rollup written at insert can hold the person itself.
    SELECT uniqExact(if(pm.person_id != '', reinterpretAsUInt128(sipHash128(pm.person_id)), d.id)) AS people
    FROM
    (
        SELECT DISTINCT id
        FROM tidemark.distinct_id_rows(
            project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
            host = {host:String}, country = {country:String}, device_type = {device_type:String},
            filter = {filter:String})
    ) AS d
    LEFT JOIN
    (
        SELECT reinterpretAsUInt128(sipHash128(distinct_id)) AS id, person_id
        FROM tidemark.person_map(project = {project:String})
    ) AS pm ON pm.id = d.id
) AS persons
CROSS JOIN
(
    SELECT
        count() AS sessions,
        countIf(pageviews = 1) AS bounces,
        ifNotFinite(avg(duration_ms), 0) AS avg_duration_ms,
        -- quantileExact returns a measured duration (no interpolation): the sorted value at floor(0.5 · n).
        if(sessions = 0, 0, quantileExact(0.5)(duration_ms)) AS median_duration_ms,
        sum(pageviews) AS session_pageviews
    FROM by_session
) AS per_session
