-- The sessions of a range, one row each, merged from tidemark.session_rows(…): only visits (sessions with a page
-- view in the range: a session of events without one, say a Web Vital sent after it timed out, is not a session a
-- reader would count). Its first page view's host, path, referrer host and UTM, its last page view's host and
-- path, and its duration from its first to its last event in the range. The session queries read this; columns a
-- query does not name are not computed.
CREATE OR REPLACE VIEW tidemark.range_sessions {{on_cluster}} AS
SELECT
    session,
    any(visitor) AS visitor,
    min(started_at) AS started_at,
    dateDiff('millisecond', started_at, max(ended_at)) AS duration_ms,
    sum(pageviews) AS pageviews,
    -- The first page view's fields, each taken by its time alone (argMin reads the two columns of the tuple).
    argMin((entry.2, entry.3), entry.1) AS entry_page,
    entry_page.1 AS entry_host,
    entry_page.2 AS entry_path,
    argMin(entry.4, entry.1) AS referrer_host,
    argMin((entry.5, entry.6, entry.7), entry.1) AS utm,
    utm.1 AS utm_source,
    utm.2 AS utm_medium,
    utm.3 AS utm_campaign,
    argMax((exit.2, exit.3), exit.1) AS exit_page,
    exit_page.1 AS exit_host,
    exit_page.2 AS exit_path
FROM tidemark.session_rows(
    project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
    host = {host:String}, country = {country:String}, device_type = {device_type:String},
    filter = {filter:String})
GROUP BY session
HAVING pageviews > 0;
