-- Entry pages: where sessions start, and how often they end on that same single page (bounce).
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   limit        UInt32                 how many pages to return
--
-- A session's entry page is the host and path of its first page view inside the range; sessions without a
-- page view have none and are left out. Returns host, path, entries (sessions that started there), visitors,
-- bounces (of those sessions, the ones with exactly one page view), bounce_rate; most entries first.
--
-- Each event counts once: FINAL collapses the copies of a resent event (same event_id) that merges have not
-- removed yet; the rollups would count them. Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_limit=20 \
--     --queries-file queries/entry_pages.sql

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
    by_session AS
    (
        SELECT
            session_id,
            any(anonymous_id) AS visitor,
            argMinIf((host, path), timestamp, type = 'page') AS entry,
            countIf(type = 'page') AS pageviews
        FROM events
        WHERE session_id != ''
        GROUP BY session_id
        HAVING pageviews > 0
    )
SELECT
    entry.1 AS host,
    entry.2 AS path,
    count() AS entries,
    uniqExact(visitor) AS visitors,
    countIf(pageviews = 1) AS bounces,
    bounces / entries AS bounce_rate
FROM by_session
GROUP BY host, path
ORDER BY entries DESC, host, path
LIMIT {limit:UInt32}
