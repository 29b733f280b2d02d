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
-- With a filter, the whole hours of the filtered sessions.
SELECT
    host,
    country,
    device_type,
    value,
    sum(events) AS events,
    sum(pageviews) AS pageviews,
    sum(session_values.pageviews) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors,
    uniqExactIfState(hex(session), dimension = 'event') AS sessions
FROM tidemark.session_values
WHERE {filter:String} != ''
  AND project_id = {project:String}
  AND dimension = {dimension:String}
  AND hour >= hours_from
  AND hour < hours_to
  {{filters}}
  AND session {{in_filtered_sessions}}
GROUP BY host, country, device_type, value
UNION ALL
-- The edges; a constant false when the range starts and ends on the hour, so nothing is read. Each event gives
-- the row 040's views give it for this dimension, or none.
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
    toUInt64(count()) AS events,
    toUInt64(countIf(type = 'page')) AS pageviews,
    toUInt64(countIf(type = 'page' AND session_id != '')) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors,
    uniqExactIfState(if({filter:String} = '', session_id, hex(reinterpretAsUInt128(sipHash128(session_id)))),
                     session_id != '' AND {dimension:String} = 'event') AS sessions
FROM tidemark.events
{{edge_minutes}}
  AND (
      {dimension:String} IN ('', 'browser', 'os')
      OR ({dimension:String} = 'page' AND type = 'page')
      OR ({dimension:String} = 'event' AND type = 'track' AND NOT startsWith(event, '$')))
  {{filters}}
GROUP BY host, country, device_type, value;
