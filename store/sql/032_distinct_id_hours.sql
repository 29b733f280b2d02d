-- Who was there, per hour, for counting people fast: one row per project, UTC hour, host, country, device type
-- and distinct id (its 128-bit hash: the event's user id when it has one, else its anonymous id: the id tidemark.person_map
-- resolves). overview.sql counts people as the distinct persons these ids resolve to; reading them here instead
-- of from tidemark.events takes the rows from one per event to about one per visitor and hour (bench/read.ts at
-- 10M events: the overview's CPU from ~3 s to a fraction of it). A person is resolved at read time, never stored,
-- because a later identify can claim earlier anonymous events (030_person_links.sql). Bots are left out.

CREATE TABLE IF NOT EXISTS tidemark.distinct_id_hours{{local}} {{on_cluster}}
(
    project_id  LowCardinality(String),
    hour        DateTime('UTC'),
    host        LowCardinality(String),
    country     LowCardinality(String),
    device_type LowCardinality(String),
    -- reinterpretAsUInt128(sipHash128(distinct id)): exact as uniqExact is, and no strings to group.
    id          UInt128,
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill    UInt8
)
-- No aggregates: merges keep one row per key, and readers take distinct ids anyway.
ENGINE = {{engine distinct_id_hours AggregatingMergeTree()}}
PARTITION BY toYYYYMM(hour)
ORDER BY (project_id, hour, host, country, device_type, id, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed distinct_id_hours cityHash64(id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.distinct_id_hours_mv {{on_cluster}}
TO tidemark.distinct_id_hours{{local}}
AS SELECT DISTINCT
    project_id,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    reinterpretAsUInt128(sipHash128(if(user_id != '', user_id, anonymous_id))) AS id,
    toUInt8(0) AS backfill
FROM tidemark.events{{local}}
WHERE bot_reason = '';

-- The backfill, as in 009_traffic_hourly.sql: rows stored before the view existed (by _inserted_at, to the second),
-- without stopping ingestion; re-running it replaces what an earlier run wrote.
DELETE FROM tidemark.distinct_id_hours{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.distinct_id_hours
SELECT DISTINCT
    project_id,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    reinterpretAsUInt128(sipHash128(if(user_id != '', user_id, anonymous_id))) AS id,
    toUInt8(1) AS backfill
FROM tidemark.events FINAL
WHERE bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'distinct_id_hours_mv');
