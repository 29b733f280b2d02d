-- Tidemark's event table (DESIGN §5). Every statement is idempotent, so re-running this file is harmless even
-- if the schema_migrations bookkeeping was lost.

CREATE DATABASE IF NOT EXISTS tidemark {{on_cluster}};

CREATE TABLE IF NOT EXISTS tidemark.events{{local}} {{on_cluster}}
(
    project_id      LowCardinality(String),
    event_id        UUID,
    type            LowCardinality(String),
    event           LowCardinality(String),
    timestamp       DateTime64(3, 'UTC'),
    client_ts       DateTime64(3, 'UTC'),
    sent_at         DateTime64(3, 'UTC'),
    received_at     DateTime64(3, 'UTC'),
    anonymous_id    String,
    user_id         String,
    session_id      String,
    url             String,
    host            LowCardinality(String),
    path            String,
    query           String,
    title           String,
    referrer        String,
    referrer_host   LowCardinality(String),
    utm_source      LowCardinality(String),
    utm_medium      LowCardinality(String),
    utm_campaign    String,
    utm_term        String,
    utm_content     String,
    browser         LowCardinality(String),
    browser_version LowCardinality(String),
    os              LowCardinality(String),
    device_type     LowCardinality(String),
    country         LowCardinality(String),
    locale          LowCardinality(String),
    screen_width    UInt32,
    screen_height   UInt32,
    bot_reason      LowCardinality(String),
    -- JSON documents kept as String: the JSON column type was experimental until ClickHouse 24.8 and still
    -- needs opt-in settings on some versions and builds, while String works everywhere and JSONExtract*/
    -- JSON_VALUE read it. Switching to JSON later is an ALTER in a new migration, not a rewrite of the sink.
    properties      String,
    traits          String,
    library         String,
    -- Kafka lineage, filled by the sink (0 in embedded mode): which message a row came from.
    _partition      UInt32 DEFAULT 0,
    _offset         UInt64 DEFAULT 0,
    -- ReplacingMergeTree keeps the row with the greatest version, so a late duplicate replaces an earlier one.
    _inserted_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine events ReplacingMergeTree(_inserted_at)}}
PARTITION BY toYYYYMM(timestamp)
-- event_id ends the key so duplicates of one event (a resend after a lost response) collapse on merge and
-- under FINAL; the day, not the timestamp, is in the key, so a resend whose skew correction moved the
-- timestamp by a few milliseconds still has the same key.
ORDER BY (project_id, toDate(timestamp), event, cityHash64(anonymous_id), event_id)
-- MergeTree honours insert_deduplication_token (and block-hash deduplication) only on replicated tables
-- unless this window is set: it is what makes the sink's retried insert of the same Kafka offsets a no-op
-- (DESIGN §6.3). 1000 inserts cover any retry of the last minutes at the sink's flush rate.
SETTINGS non_replicated_deduplication_window = 1000;

-- On a cluster the rows live in tidemark.events_local on every shard and this is the table the sink inserts
-- into and queries read; a visitor's events go to one shard, so duplicates of an event meet there and
-- ReplacingMergeTree can collapse them. On a single server this placeholder renders to nothing.
{{distributed events cityHash64(anonymous_id)}};
