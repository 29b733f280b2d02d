-- People (DESIGN §5a): which user id each anonymous id belongs to, kept at insert by a materialized view, and
-- `tidemark.person_map(project)`, the resolved id → person table the ready queries join on.
--
-- A link is (distinct id → user id, with the time of the event that made it):
--   - any event carrying both an anonymous id and a user id (identify, and every event the SDK sends after
--     it) links the anonymous id to the user id;
--   - an alias (Segment `alias`: `previousId` → `userId`, kept in properties.previousId) links the previous id,
--     anonymous or a former user id, to the user id.
-- Merge rules, as PostHog and Segment apply them (docs/architecture.md §5a has their reasons):
--   - the earliest link of an id wins: an anonymous id seen with two user ids (a shared computer without
--     reset()) keeps the first user for its anonymous events; each event that carries a user id stays that
--     user's, so the second user's logged-in events are never given to the first;
--   - two identified users are never merged by an identify; only an alias from one user id to another does;
--   - alias chains resolve up to three links (anonymous → old user id → new user id → newer);
--   - reset() on log-out starts a new anonymous id, so what follows is a new visitor until the next log-in.
-- The link is by event time, not arrival time, so a late identify from an offline queue still decides by when it
-- happened, and the result does not depend on the order in which events arrive.

CREATE TABLE IF NOT EXISTS tidemark.person_links{{local}} {{on_cluster}}
(
    project_id  LowCardinality(String),
    -- An anonymous id, or a user id an alias renamed.
    distinct_id String,
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill    UInt8,
    -- The earliest (event time, user id) that linked this id: min picks the first link.
    link        SimpleAggregateFunction(min, Tuple(DateTime64(3, 'UTC'), String))
)
ENGINE = {{engine person_links AggregatingMergeTree()}}
ORDER BY (project_id, distinct_id, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed person_links cityHash64(distinct_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.person_links_mv {{on_cluster}}
TO tidemark.person_links{{local}}
AS SELECT
    project_id,
    l.1 AS distinct_id,
    toUInt8(0) AS backfill,
    min((timestamp, l.2)) AS link
FROM tidemark.events{{local}}
ARRAY JOIN
    arrayConcat(
        if(anonymous_id != '' AND user_id != '' AND anonymous_id != user_id, [(anonymous_id, user_id)], []),
        if(type = 'alias' AND user_id != '' AND JSONExtractString(properties, 'previousId') NOT IN ('', user_id),
           [(JSONExtractString(properties, 'previousId'), user_id)], [])) AS l
GROUP BY project_id, distinct_id;

-- The backfill, as in 009_traffic_hourly.sql: links of the events stored before the view existed.
DELETE FROM tidemark.person_links{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.person_links
SELECT
    project_id,
    l.1 AS distinct_id,
    toUInt8(1) AS backfill,
    min((timestamp, l.2)) AS link
FROM tidemark.events FINAL
ARRAY JOIN
    arrayConcat(
        if(anonymous_id != '' AND user_id != '' AND anonymous_id != user_id, [(anonymous_id, user_id)], []),
        if(type = 'alias' AND user_id != '' AND JSONExtractString(properties, 'previousId') NOT IN ('', user_id),
           [(JSONExtractString(properties, 'previousId'), user_id)], [])) AS l
WHERE _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'person_links_mv')
GROUP BY project_id, distinct_id;

-- Every linked id of a project and the person it resolves to, following up to three links (an alias chain
-- anonymous → u1 → u2 → u3). An id without a link is its own person, and is not listed: the queries join on
-- `if(user_id != '', user_id, anonymous_id)` and fall back to that id. A cycle of aliases (u1 → u2 → u1) ends
-- where three links end, so each id in it still gets one person.
CREATE VIEW IF NOT EXISTS tidemark.person_map {{on_cluster}} AS
WITH links AS
(
    SELECT distinct_id, min(link).2 AS user_id
    FROM tidemark.person_links
    WHERE project_id = {project:String}
    GROUP BY distinct_id
)
SELECT
    l1.distinct_id AS distinct_id,
    multiIf(l3.user_id != '', l3.user_id, l2.user_id != '', l2.user_id, l1.user_id) AS person_id
FROM links AS l1
LEFT JOIN links AS l2 ON l2.distinct_id = l1.user_id
LEFT JOIN links AS l3 ON l3.distinct_id = l2.user_id
SETTINGS join_use_nulls = 0;
