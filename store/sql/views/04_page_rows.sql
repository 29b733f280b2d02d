-- Page views per host and path for a range and the filters, as states to merge per page: pageviews, session_pageviews
-- (sums) and visitors (groupBitmap of visitor numbers, store/sql/040). Whole UTC days from tidemark.page_days (040)
-- when no country or device filter is set, the other whole hours from tidemark.traffic_hours (040), the edges from
-- tidemark.events; with a `filter`, the whole hours from tidemark.session_values (041), the filtered sessions'
-- rows. Parameters as in the ready queries: project; from and to (DateTime64(3, 'UTC'), `from` included); host,
-- country, device_type ('' = any); filter.
CREATE OR REPLACE VIEW tidemark.page_rows {{on_cluster}} AS
WITH
    {{whole_hours}},
    -- Its whole UTC days [days_from, days_to), read by day when no country or device filter asks for the hours.
    {{range_days}},
    {country:String} = '' AND {device_type:String} = '' AND {filter:String} = '' AS by_day
SELECT toString(host) AS host, path, pageviews, session_pageviews, visitors
FROM tidemark.page_days
WHERE by_day
  AND project_id = {project:String}
  AND day >= toDate(days_from)
  AND day < toDate(days_to)
  AND ({host:String} = '' OR host = {host:String})
UNION ALL
SELECT toString(host) AS host, value AS path, pageviews, session_pageviews, visitors
FROM tidemark.traffic_hours
WHERE project_id = {project:String}
  AND dimension = 'page'
  AND hour >= hours_from
  AND hour < hours_to
  -- Outside the whole days the daily table gave, in a form the primary key can prune by.
  AND (hour < if(by_day, days_from, hours_to) OR hour >= if(by_day, days_to, hours_to))
  AND {filter:String} = ''
  {{filters}}
UNION ALL
-- The filtered sessions' whole hours (session_values, with a filter only) and the edges (a constant false when the
-- range starts and ends on the hour, so nothing is read), their sessions checked once for both.
SELECT
    host,
    path,
    sum(row_pageviews) AS pageviews,
    sum(row_session_pageviews) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors
FROM
(
    WITH {{whole_hours}}
    SELECT
        toString(host) AS host,
        value AS path,
        pageviews AS row_pageviews,
        pageviews AS row_session_pageviews,
        visitor_number,
        session
    {{filtered_session_values}}
      AND dimension = 'page'
    UNION ALL
    WITH {{whole_hours}}
    SELECT
        toString(host) AS host,
        path,
        toUInt64(1) AS row_pageviews,
        toUInt64(session_id != '') AS row_session_pageviews,
        visitor_number,
        reinterpretAsUInt128(sipHash128(session_id)) AS session
    FROM tidemark.events
    {{edge_rows}}
      AND type = 'page'
      {{filters}}
)
WHERE {filter:String} = '' OR session {{in_filtered_sessions}}
GROUP BY host, path;
