-- Web Vitals samples per metric, host and path for a range and the filters, as states to merge per page: samples
-- and the count of each rating (sums), p75 (quantileExact(0.75) state). Whole days from web_vital_days_state
-- (013), whole hours from web_vital_samples (011; with a `filter`, all whole hours there, the kept sessions'
-- samples: 041 gave them their session), the edges from tidemark.events. Parameters as page_rows, and metric
-- ('' = all five: LCP, INP, CLS, FCP, TTFB).
CREATE OR REPLACE VIEW tidemark.web_vital_rows {{on_cluster}} AS
WITH
    {{whole_hours}},
    {{range_days}},
    {country:String} = '' AND {device_type:String} = '' AND {filter:String} = '' AS by_day
SELECT toString(metric) AS metric, toString(host) AS host, path, samples, good, needs_improvement, poor, p75
FROM tidemark.web_vital_days_state
WHERE by_day
  AND project_id = {project:String}
  AND metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
  AND ({metric:String} = '' OR metric = {metric:String})
  AND day >= toDate(days_from)
  AND day < toDate(days_to)
  AND ({host:String} = '' OR host = {host:String})
UNION ALL
-- The other whole hours (all of them with a filter) from web_vital_samples and the edges (a constant false when the
-- range starts and ends on the hour, so nothing is read) from tidemark.events, their sessions checked once for both.
SELECT
    metric,
    host,
    path,
    toUInt64(count()) AS samples,
    toUInt64(countIf(rating = 'good')) AS good,
    toUInt64(countIf(rating = 'needs-improvement')) AS needs_improvement,
    toUInt64(countIf(rating = 'poor')) AS poor,
    quantileExactState(0.75)(value) AS p75
FROM
(
    WITH
        {{whole_hours}},
        {{range_days}},
        {country:String} = '' AND {device_type:String} = '' AND {filter:String} = '' AS by_day
    SELECT toString(metric) AS metric, toString(host) AS host, path, value, toString(rating) AS rating, session
    FROM tidemark.web_vital_samples
    WHERE project_id = {project:String}
      AND metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
      AND ({metric:String} = '' OR metric = {metric:String})
      AND hour >= hours_from
      AND hour < hours_to
      -- Outside the whole days the daily table gave, in a form the primary key can prune by.
      AND (hour < if(by_day, days_from, hours_to) OR hour >= if(by_day, days_to, hours_to))
      {{filters}}
    UNION ALL
    WITH {{whole_hours}}
    SELECT
        JSONExtractString(properties, 'name') AS metric,
        toString(host) AS host,
        path,
        JSONExtractFloat(properties, 'value') AS value,
        JSONExtractString(properties, 'rating') AS rating,
        reinterpretAsUInt128(sipHash128(session_id)) AS session
    FROM tidemark.events
    {{edge_rows}}
      AND type = 'track'
      AND event = '$web_vital'
      {{filters}}
)
WHERE metric IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')
  AND ({metric:String} = '' OR metric = {metric:String})
  AND ({filter:String} = '' OR session {{in_filtered_sessions}})
GROUP BY metric, host, path;
