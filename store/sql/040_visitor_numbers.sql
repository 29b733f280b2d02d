-- Dense visitor numbers (docs/architecture.md §5): every visitor (project and anonymous id) gets a number once,
-- written with the event as `visitor_number`, and the rollups keep their visitors as `groupBitmap` states of
-- those numbers instead of `uniqExact` states of 128-bit hashes. A roaring bitmap of dense numbers merges by
-- whole 64 Ki-wide containers, so counting the visitors of a month costs a few milliseconds where merging their
-- hashes cost a tenth of a second per million (bench/read.ts).
--
-- Who numbers them: the writer of the events (store/src/visitorNumbers.ts), before the INSERT. The k-th new
-- visitor of Kafka partition p is (p << 32) + k: a visitor's events share a partition, so a replay, a zombie sink
-- and the next owner after a rebalance number the same visitors alike, with no coordinator. The embedded writer
-- numbers from partition 2147483647, and this migration numbers the visitors stored before it from 2147483646.
--
-- Events without an anonymous id (server-side calls with a user id only: one visitor per project, as uniqExact
-- counted them) are number 0, which no partition gives. A row inserted without a number (a writer of an older
-- version, a test or tool that inserts rows itself) gets the column's default: a 64-bit hash of the visitor with
-- the top bit set, so it never equals a dense number. Such a visitor is still counted once as long as all of its
-- rows lack a number, and twice if some have one.

-- The numbers given, by visitor: `key` is the first 128 bits of the SHA-256 of the byte length of the project
-- id, ':', the project id and the anonymous id, in hex (unambiguous whatever either holds, and no id in the
-- clear); `partition` and `offset` say which Kafka message numbered it, so that a replay of that message can tell
-- its own earlier attempt's numbers from an older visitor's. Never deleted, not even by an erasure: a number
-- freed would be handed to the next new visitor of its partition, and the rollups would count the two as one.
CREATE TABLE IF NOT EXISTS tidemark.visitor_numbers {{on_cluster}}
(
    key       String,
    number    UInt64,
    partition UInt32,
    offset    UInt64
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY key;

ALTER TABLE tidemark.events{{local}} {{on_cluster}}
    ADD COLUMN IF NOT EXISTS visitor_number UInt64
        DEFAULT if(anonymous_id = '', 0, bitOr(sipHash64(project_id, anonymous_id), 9223372036854775808)) CODEC(T64, ZSTD(1)) AFTER extra;

{{cluster_only}} ALTER TABLE tidemark.events {{on_cluster}}
    ADD COLUMN IF NOT EXISTS visitor_number UInt64
        DEFAULT if(anonymous_id = '', 0, bitOr(sipHash64(project_id, anonymous_id), 9223372036854775808)) AFTER extra;

-- Numbers for the visitors already stored, in the order of their keys, after those an earlier run gave.
{{this_node}} INSERT INTO tidemark.visitor_numbers (key, number, partition, offset)
SELECT
    key,
    (toUInt64(2147483646) * 4294967296)
        + (SELECT count() FROM tidemark.visitor_numbers WHERE partition = 2147483646)
        + row_number() OVER (ORDER BY key) AS number,
    2147483646 AS partition,
    0 AS offset
FROM
(
    SELECT DISTINCT lower(hex(substring(SHA256(concat(toString(length(project_id)), ':', project_id, anonymous_id)), 1, 16))) AS key
    FROM tidemark.events
    WHERE visitor_number >= 9223372036854775808
)
WHERE key NOT IN (SELECT key FROM tidemark.visitor_numbers);

-- Those numbers onto the stored rows, through an in-memory copy of them (a mutation may call joinGet, not read
-- another table), emptied once the rows have them. Kept, not dropped, so that several sinks migrating at once
-- never pull the table from under each other's mutation; a row whose visitor the copy lacks keeps its default.
-- On a cluster the copy is filled on the node the migration talks to only, so the other shards' rows keep their
-- defaults (docs/cluster.md).
CREATE TABLE IF NOT EXISTS tidemark.visitor_numbers_join {{on_cluster}} (key String, number UInt64)
ENGINE = Join(ANY, LEFT, key);

{{this_node}} INSERT INTO tidemark.visitor_numbers_join
SELECT key, number FROM tidemark.visitor_numbers WHERE partition = 2147483646;

ALTER TABLE tidemark.events{{local}} {{on_cluster}}
    UPDATE visitor_number = if(
        joinGet('tidemark.visitor_numbers_join', 'number',
                lower(hex(substring(SHA256(concat(toString(length(project_id)), ':', project_id, anonymous_id)), 1, 16)))) AS given = 0,
        visitor_number, given)
    WHERE visitor_number >= 9223372036854775808
SETTINGS mutations_sync = 2;

TRUNCATE TABLE IF EXISTS tidemark.visitor_numbers_join {{on_cluster}};

-- The rollups of 009 and 013 whose visitors were uniqExact states, again with bitmaps: traffic_hours replaces
-- traffic_hourly_state and page_days replaces page_days_state, same keys and columns, `visitors` a groupBitmap
-- state of the visitor numbers; traffic_days is new. New tables with their own views and backfills (as 012 replaced 010), so that
-- running an older migration again (lost bookkeeping) rebuilds only tables nothing reads.
CREATE TABLE IF NOT EXISTS tidemark.traffic_hours{{local}} {{on_cluster}}
(
    project_id        LowCardinality(String),
    dimension         LowCardinality(String),
    hour              DateTime('UTC'),
    host              LowCardinality(String),
    country           LowCardinality(String),
    device_type       LowCardinality(String),
    value             String CODEC(ZSTD(1)),
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill          UInt8,
    events            SimpleAggregateFunction(sum, UInt64),
    pageviews         SimpleAggregateFunction(sum, UInt64),
    -- Page views that carry a session id: exit_pages' and pageviews_per_session's denominator.
    session_pageviews SimpleAggregateFunction(sum, UInt64),
    visitors          AggregateFunction(groupBitmap, UInt64),
    -- Session ids, kept for the 'event' rows only (custom_events' sessions): elsewhere they would double the bytes.
    sessions          AggregateFunction(uniqExactIf, String, UInt8)
)
ENGINE = {{engine traffic_hours AggregatingMergeTree()}}
PARTITION BY toYYYYMM(hour)
ORDER BY (project_id, dimension, hour, host, country, device_type, value, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed traffic_hours cityHash64(project_id, hour)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.traffic_hours_mv {{on_cluster}}
TO tidemark.traffic_hours{{local}}
AS SELECT
    project_id,
    d.1 AS dimension,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    d.2 AS value,
    toUInt8(0) AS backfill,
    toUInt64(count()) AS events,
    toUInt64(countIf(type = 'page')) AS pageviews,
    toUInt64(countIf(type = 'page' AND session_id != '')) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors,
    uniqExactIfState(session_id, session_id != '' AND dimension = 'event') AS sessions
FROM tidemark.events{{local}}
ARRAY JOIN
    arrayConcat(
        [('', ''), ('browser', toString(browser)), ('os', toString(os))],
        if(type = 'page', [('page', path)], []),
        if(type = 'track' AND NOT startsWith(event, '$'), [('event', toString(event))], [])) AS d
WHERE bot_reason = ''
GROUP BY project_id, dimension, hour, host, country, device_type, value;

-- The same per UTC day, for every dimension but 'page' (page_days below has the pages): a month's panel merges
-- 30 days' bitmaps instead of 720 hours', about a third of the CPU for the visitors of devices or browsers at 10M
-- events. Country and device type stay in the key, so every filter reads it.
CREATE TABLE IF NOT EXISTS tidemark.traffic_days{{local}} {{on_cluster}}
(
    project_id        LowCardinality(String),
    dimension         LowCardinality(String),
    day               Date,
    host              LowCardinality(String),
    country           LowCardinality(String),
    device_type       LowCardinality(String),
    value             String CODEC(ZSTD(1)),
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill          UInt8,
    events            SimpleAggregateFunction(sum, UInt64),
    pageviews         SimpleAggregateFunction(sum, UInt64),
    session_pageviews SimpleAggregateFunction(sum, UInt64),
    visitors          AggregateFunction(groupBitmap, UInt64),
    sessions          AggregateFunction(uniqExactIf, String, UInt8)
)
ENGINE = {{engine traffic_days AggregatingMergeTree()}}
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, dimension, day, host, country, device_type, value, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed traffic_days cityHash64(project_id, day)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.traffic_days_mv {{on_cluster}}
TO tidemark.traffic_days{{local}}
AS SELECT
    project_id,
    d.1 AS dimension,
    toDate(timestamp) AS day,
    host,
    country,
    device_type,
    d.2 AS value,
    toUInt8(0) AS backfill,
    toUInt64(count()) AS events,
    toUInt64(countIf(type = 'page')) AS pageviews,
    toUInt64(countIf(type = 'page' AND session_id != '')) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors,
    uniqExactIfState(session_id, session_id != '' AND dimension = 'event') AS sessions
FROM tidemark.events{{local}}
ARRAY JOIN
    arrayConcat(
        [('', ''), ('browser', toString(browser)), ('os', toString(os))],
        if(type = 'track' AND NOT startsWith(event, '$'), [('event', toString(event))], [])) AS d
WHERE bot_reason = ''
GROUP BY project_id, dimension, day, host, country, device_type, value;

CREATE TABLE IF NOT EXISTS tidemark.page_days{{local}} {{on_cluster}}
(
    project_id        LowCardinality(String),
    day               Date,
    host              LowCardinality(String),
    path              String CODEC(ZSTD(1)),
    -- 1 on the rows the backfill below wrote, so that running it again replaces them instead of adding to them.
    backfill          UInt8,
    pageviews         SimpleAggregateFunction(sum, UInt64),
    -- Page views that carry a session id: exit_pages' denominator.
    session_pageviews SimpleAggregateFunction(sum, UInt64),
    visitors          AggregateFunction(groupBitmap, UInt64)
)
ENGINE = {{engine page_days AggregatingMergeTree()}}
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, day, host, path, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed page_days cityHash64(project_id, day)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.page_days_v2_mv {{on_cluster}}
TO tidemark.page_days{{local}}
AS SELECT
    project_id,
    toDate(timestamp) AS day,
    host,
    path,
    toUInt8(0) AS backfill,
    toUInt64(count()) AS pageviews,
    toUInt64(countIf(session_id != '')) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors
FROM tidemark.events{{local}}
WHERE type = 'page' AND bot_reason = ''
GROUP BY project_id, day, host, path;

-- The backfills, as in 009_traffic_hourly.sql: rows stored before each view existed (by _inserted_at, to the
-- second), without stopping ingestion; re-running them replaces what an earlier run wrote. FINAL for rows stored
-- before 008 that may still hold copies.
DELETE FROM tidemark.traffic_hours{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.traffic_hours
SELECT
    project_id,
    d.1 AS dimension,
    toStartOfHour(timestamp) AS hour,
    host,
    country,
    device_type,
    d.2 AS value,
    toUInt8(1) AS backfill,
    toUInt64(count()) AS events,
    toUInt64(countIf(type = 'page')) AS pageviews,
    toUInt64(countIf(type = 'page' AND session_id != '')) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors,
    uniqExactIfState(session_id, session_id != '' AND dimension = 'event') AS sessions
FROM tidemark.events FINAL
ARRAY JOIN
    arrayConcat(
        [('', ''), ('browser', toString(browser)), ('os', toString(os))],
        if(type = 'page', [('page', path)], []),
        if(type = 'track' AND NOT startsWith(event, '$'), [('event', toString(event))], [])) AS d
WHERE bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'traffic_hours_mv')
GROUP BY project_id, dimension, hour, host, country, device_type, value;

DELETE FROM tidemark.traffic_days{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.traffic_days
SELECT
    project_id,
    d.1 AS dimension,
    toDate(timestamp) AS day,
    host,
    country,
    device_type,
    d.2 AS value,
    toUInt8(1) AS backfill,
    toUInt64(count()) AS events,
    toUInt64(countIf(type = 'page')) AS pageviews,
    toUInt64(countIf(type = 'page' AND session_id != '')) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors,
    uniqExactIfState(session_id, session_id != '' AND dimension = 'event') AS sessions
FROM tidemark.events FINAL
ARRAY JOIN
    arrayConcat(
        [('', ''), ('browser', toString(browser)), ('os', toString(os))],
        if(type = 'track' AND NOT startsWith(event, '$'), [('event', toString(event))], [])) AS d
WHERE bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'traffic_days_mv')
GROUP BY project_id, dimension, day, host, country, device_type, value;

DELETE FROM tidemark.page_days{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.page_days
SELECT
    project_id,
    toDate(timestamp) AS day,
    host,
    path,
    toUInt8(1) AS backfill,
    toUInt64(count()) AS pageviews,
    toUInt64(countIf(session_id != '')) AS session_pageviews,
    groupBitmapState(visitor_number) AS visitors
FROM tidemark.events FINAL
WHERE type = 'page' AND bot_reason = ''
  AND _inserted_at < (
      SELECT min(metadata_modification_time) FROM system.tables
      WHERE database = 'tidemark' AND name = 'page_days_v2_mv')
GROUP BY project_id, day, host, path;

-- The tables they replace, and their views: nothing reads them now.
DROP VIEW IF EXISTS tidemark.traffic_hourly_mv {{on_cluster}};

DROP VIEW IF EXISTS tidemark.page_days_mv {{on_cluster}};

DROP TABLE IF EXISTS tidemark.traffic_hourly_state {{on_cluster}};

{{cluster_only}} DROP TABLE IF EXISTS tidemark.traffic_hourly_state_local {{on_cluster}};

DROP TABLE IF EXISTS tidemark.page_days_state {{on_cluster}};

{{cluster_only}} DROP TABLE IF EXISTS tidemark.page_days_state_local {{on_cluster}};
