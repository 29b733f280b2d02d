-- Exit pages: the last page of sessions, and how often a view of that page was the last one.
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   limit        UInt32                 how many pages to return
--
-- A session's exit page is the host and path of its last page view inside the range. Returns host, path,
-- exits (sessions that ended there), pageviews (the page's views in sessions), exit_rate (exits / pageviews);
-- most exits first.
--
-- Each event counts once: FINAL collapses the copies of a resent event (same event_id) that merges have not
-- removed yet; the rollups would count them. Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_limit=20 \
--     --queries-file queries/exit_pages.sql

WITH
    events AS
    (
        SELECT *
        FROM tidemark.events FINAL
        WHERE project_id = {project:String}
          AND timestamp >= {from:DateTime64(3, 'UTC')}
          AND timestamp < {to:DateTime64(3, 'UTC')}
          AND bot_reason = ''
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
    ),
    exits AS
    (
        SELECT exit.1 AS host, exit.2 AS path, count() AS exits
        FROM
        (
            SELECT
                session_id,
                argMaxIf((host, path), timestamp, type = 'page') AS exit,
                countIf(type = 'page') AS pageviews
            FROM events
            WHERE session_id != ''
            GROUP BY session_id
            HAVING pageviews > 0
        )
        GROUP BY host, path
    ),
    views AS
    (
        SELECT host, path, count() AS pageviews
        FROM events
        WHERE type = 'page' AND session_id != ''
        GROUP BY host, path
    )
SELECT
    exits.host AS host,
    exits.path AS path,
    exits.exits AS exits,
    views.pageviews AS pageviews,
    exits / pageviews AS exit_rate
FROM exits
INNER JOIN views ON views.host = exits.host AND views.path = exits.path
ORDER BY exits DESC, host, path
LIMIT {limit:UInt32}
