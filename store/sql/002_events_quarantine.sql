-- Rows ClickHouse refused to parse (DESIGN §5: a quarantine table). The sink isolates each refused line and
-- parks it here with the error, so one malformed message never blocks its partition.

CREATE TABLE IF NOT EXISTS tidemark.events_quarantine{{local}} {{on_cluster}}
(
    quarantined_at DateTime64(3, 'UTC') DEFAULT now64(3),
    -- Where the line came from: the Kafka topic, partition and offset ('' and 0 in embedded mode).
    topic          LowCardinality(String),
    _partition     UInt32,
    _offset        UInt64,
    -- ClickHouse's error for this line alone.
    error          String,
    -- The line exactly as it was to be inserted, lineage prefix included.
    row            String
)
ENGINE = {{engine events_quarantine MergeTree()}}
ORDER BY (topic, _partition, _offset)
-- Quarantine inserts carry a deduplication token derived from the batch's, so a retried flush does not park
-- the same line twice.
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed events_quarantine rand()}};
