-- A session's rows for a range and the filters: whole UTC hours from tidemark.session_hours (012), and the
-- minutes before the first and after the last whole hour from tidemark.events, in the same columns; with a
-- `filter`, the filtered sessions' rows only (session_hours keeps the session, so its hours still serve). The
-- rows of one session are merged by the query (GROUP BY session). Parameters as in the ready queries: project; from and to
-- (DateTime64(3, 'UTC'), `from` included); host, country, device_type ('' = any); filter (01_filtered_sessions.sql).
CREATE OR REPLACE VIEW tidemark.session_rows {{on_cluster}} AS
WITH
    {{whole_hours}}
SELECT session, visitor, started_at, ended_at, pageviews, entry, exit
FROM tidemark.session_hours
WHERE project_id = {project:String}
  AND hour >= hours_from
  AND hour < hours_to
  {{filters}}
  AND ({filter:String} = '' OR session {{in_filtered_sessions}})
UNION ALL
-- The edges; a constant false when the range starts and ends on the hour, so nothing is read.
SELECT
    reinterpretAsUInt128(sipHash128(session_id)) AS session,
    any(reinterpretAsUInt128(sipHash128(anonymous_id))) AS visitor,
    min(timestamp) AS started_at,
    max(timestamp) AS ended_at,
    toUInt64(countIf(type = 'page')) AS pageviews,
    min((if(type = 'page', timestamp, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')), toString(host), path,
         toString(referrer_host), toString(utm_source), toString(utm_medium), utm_campaign)) AS entry,
    max((if(type = 'page', timestamp, toDateTime64(0, 3, 'UTC')), toString(host), path)) AS exit
FROM tidemark.events
{{edge_minutes}}
  {{filters}}
  AND session_id != ''
GROUP BY session;
