-- Person events: one person's timeline across devices, before and after logging in, oldest first.
--
-- Parameters:
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   person       String                 the person: a user id, or an anonymous id never identified
--   limit        UInt32                 at most this many events
--
-- A person's events are those whose id resolves to them (store/sql/030_person_links.sql): the events carrying
-- their user id (or a user id an alias renamed to it), and the anonymous events of every anonymous id whose
-- earliest link is to them, from before and after the link. Returns timestamp, type, event, path, anonymous_id,
-- user_id, session_id, device_type, browser, os, country, properties. FINAL: a timeline lists events, and a copy
-- the id check missed would show twice.
--
--   clickhouse client --param_project=demo --param_person=v1 \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' --param_limit=1000 \
--     --queries-file queries/person_events.sql

WITH
    (
        SELECT arrayConcat([{person:String}], groupArray(distinct_id))
        FROM tidemark.person_map(project = {project:String})
        WHERE person_id = {person:String}
    ) AS ids
SELECT
    e.timestamp AS timestamp,
    e.type AS type,
    e.event AS event,
    e.path AS path,
    e.anonymous_id AS anonymous_id,
    e.user_id AS user_id,
    e.session_id AS session_id,
    e.device_type AS device_type,
    e.browser AS browser,
    e.os AS os,
    e.country AS country,
    e.properties AS properties
FROM
(
    SELECT *
    FROM tidemark.events FINAL
    WHERE project_id = {project:String}
      AND timestamp >= {from:DateTime64(3, 'UTC')}
      AND timestamp < {to:DateTime64(3, 'UTC')}
      AND (has(ids, user_id) OR has(ids, anonymous_id))
) AS e
LEFT JOIN tidemark.person_map(project = {project:String}) AS pm
    ON pm.distinct_id = if(e.user_id != '', e.user_id, e.anonymous_id)
WHERE if(pm.person_id != '', pm.person_id, if(e.user_id != '', e.user_id, e.anonymous_id)) = {person:String}
ORDER BY e.timestamp, e.event_id
LIMIT {limit:UInt32}
