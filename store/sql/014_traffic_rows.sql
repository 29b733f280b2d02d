-- tidemark.traffic_rows(…): the rows of tidemark.traffic_hourly_state (009) for one `dimension` and a range, with
-- the minutes before the first and after the last whole hour of the range computed from tidemark.events as the
-- same states, the way 009's view computes them. The ready queries over all traffic (overview's visitors and page
-- views, devices, countries) and per browser, OS or custom event read it and merge the states per value; one
-- place for the stitching instead of a copy in each.
--
-- Parameters as in the ready queries: project; from and to (DateTime64(3, 'UTC'), `from` included); host, country,
-- device_type ('' = any); dimension ('', 'browser', 'os', 'page' or 'event', as in 009). Columns: host, country,
-- device_type, value; events, pageviews, session_pageviews (sums); visitors (uniqExact), sessions (uniqExactIf,
-- kept for 'event' only).

CREATE VIEW IF NOT EXISTS tidemark.traffic_rows {{on_cluster}} AS
WITH
    -- The range's whole UTC hours [hours_from, hours_to): empty when the range lies within one hour.
    toStartOfHour({from:DateTime64(3, 'UTC')}) AS from_hour,
    if(from_hour = {from:DateTime64(3, 'UTC')}, from_hour, from_hour + INTERVAL 1 HOUR) AS hours_from,
    greatest(toStartOfHour({to:DateTime64(3, 'UTC')}), hours_from) AS hours_to
SELECT
    toString(host) AS host,
    toString(country) AS country,
    toString(device_type) AS device_type,
    value,
    events,
    pageviews,
    session_pageviews,
    visitors,
    sessions
FROM tidemark.traffic_hourly_state
WHERE project_id = {project:String}
  AND dimension = {dimension:String}
  AND hour >= hours_from
  AND hour < hours_to
  AND ({host:String} = '' OR host = {host:String})
  AND ({country:String} = '' OR country = {country:String})
  AND ({device_type:String} = '' OR device_type = {device_type:String})
UNION ALL
-- The edges; a constant false when the range starts and ends on the hour, so nothing is read. Each event gives
-- the row 009's view gives it for this dimension, or none.
SELECT
    toString(host) AS host,
    toString(country) AS country,
    toString(device_type) AS device_type,
    multiIf(
        {dimension:String} = 'browser', toString(browser),
        {dimension:String} = 'os', toString(os),
        {dimension:String} = 'page', path,
        {dimension:String} = 'event', toString(event),
        '') AS value,
    toUInt64(count()) AS events,
    toUInt64(countIf(type = 'page')) AS pageviews,
    toUInt64(countIf(type = 'page' AND session_id != '')) AS session_pageviews,
    uniqExactState(anonymous_id) AS visitors,
    uniqExactIfState(session_id, session_id != '' AND {dimension:String} = 'event') AS sessions
FROM tidemark.events
WHERE (hours_from != {from:DateTime64(3, 'UTC')} OR hours_to != {to:DateTime64(3, 'UTC')})
  AND project_id = {project:String}
  AND timestamp >= {from:DateTime64(3, 'UTC')}
  AND timestamp < {to:DateTime64(3, 'UTC')}
  AND (timestamp < hours_from OR timestamp >= hours_to)
  AND bot_reason = ''
  AND (
      {dimension:String} IN ('', 'browser', 'os')
      OR ({dimension:String} = 'page' AND type = 'page')
      OR ({dimension:String} = 'event' AND type = 'track' AND NOT startsWith(event, '$')))
  AND ({host:String} = '' OR host = {host:String})
  AND ({country:String} = '' OR country = {country:String})
  AND ({device_type:String} = '' OR device_type = {device_type:String})
GROUP BY host, country, device_type, value;
