-- tidemark.traffic_rows(…): the rollups' rows for one `dimension` and a range (040): the range's whole UTC days from
-- tidemark.traffic_days (not for 'page', which it lacks), its other whole hours from tidemark.traffic_hours, and the
-- minutes before the first and after the last whole hour computed from tidemark.events as the same states, the way
-- the views compute them. The ready queries over all traffic (overview's visitors and page views, devices,
-- countries) and per browser, OS or custom event read it and merge the states per value; one place for the
-- stitching instead of a copy in each.
--
-- Parameters as in the ready queries: project; from and to (DateTime64(3, 'UTC'), `from` included); host, country,
-- device_type ('' = any); filter (01_filtered_sessions.sql: with one, the whole hours from tidemark.session_values
-- (041), the filtered sessions' rows); dimension ('', 'browser', 'os', 'page' or 'event', as in 040). Columns: host,
-- country, device_type, value; events, pageviews, session_pageviews (sums); visitors (groupBitmap of visitor numbers,
-- store/sql/040), sessions (uniqExactIf, kept for 'event' only: of the session ids, or with a filter of the hex of
-- their hash, which is what session_values keeps; one form in all parts of one answer).
CREATE OR REPLACE VIEW tidemark.traffic_rows {{on_cluster}} AS
WITH
    {{whole_hours}},
    -- Its whole UTC days [days_from, days_to), read by day unless the dimension has no daily rows.
    {{range_days}},
    {dimension:String} != 'page' AND {filter:String} = '' AS by_day
SELECT host, country, device_type, value, events, pageviews, session_pageviews, visitors, sessions
FROM tidemark.traffic_days
WHERE by_day
  AND project_id = {project:String}
  AND dimension = {dimension:String}
  AND day >= toDate(days_from)
  AND day < toDate(days_to)
  {{filters}}
UNION ALL
SELECT host, country, device_type, value, events, pageviews, session_pageviews, visitors, sessions
FROM tidemark.traffic_hours
WHERE project_id = {project:String}
  AND dimension = {dimension:String}
  AND hour >= hours_from
  AND hour < hours_to
  -- Outside the whole days the daily table gave, in a form the primary key can prune by.
  AND (hour < if(by_day, days_from, hours_to) OR hour >= if(by_day, days_to, hours_to))
  AND {filter:String} = ''
  {{filters}}
UNION ALL
-- The filtered sessions' whole hours (session_values, with a filter only) and the edges (a constant false when the
-- range starts and ends on the hour, so nothing is read; each event gives the row 040's views give it for this
-- dimension, or none), their sessions checked once for both.
SELECT
    host,
    country,
    device_type,
    value,
    sum(row_events) AS events,
    sum(row_pageviews) AS pageviews,
    sum(row_session_pageviews) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors,
    uniqExactIfState(session_text, counts_session) AS sessions
FROM
(
    WITH {{whole_hours}}
    SELECT
        host,
        country,
        device_type,
        value,
        events AS row_events,
        pageviews AS row_pageviews,
        pageviews AS row_session_pageviews,
        visitor_number,
        session,
        hex(session) AS session_text,
        dimension = 'event' AS counts_session
    {{filtered_session_values}}
      AND dimension = {dimension:String}
    UNION ALL
    WITH {{whole_hours}}
    SELECT
        host,
        country,
        device_type,
        multiIf(
            {dimension:String} = 'browser', toString(browser),
            {dimension:String} = 'os', toString(os),
            {dimension:String} = 'page', path,
            {dimension:String} = 'event', toString(event),
            '') AS value,
        toUInt64(1) AS row_events,
        toUInt64(type = 'page') AS row_pageviews,
        toUInt64(type = 'page' AND session_id != '') AS row_session_pageviews,
        visitor_number,
        reinterpretAsUInt128(sipHash128(session_id)) AS session,
        -- The session ids, as traffic_hours keeps them; with a filter, as session_values does (its hash in hex).
        if({filter:String} = '', session_id, hex(session)) AS session_text,
        session_id != '' AND {dimension:String} = 'event' AS counts_session
    FROM tidemark.events
    {{edge_rows}}
      AND (
          {dimension:String} IN ('', 'browser', 'os')
          OR ({dimension:String} = 'page' AND type = 'page')
          OR ({dimension:String} = 'event' AND type = 'track' AND NOT startsWith(event, '$')))
      {{filters}}
)
WHERE {filter:String} = '' OR session {{in_filtered_sessions}}
GROUP BY host, country, device_type, value;
