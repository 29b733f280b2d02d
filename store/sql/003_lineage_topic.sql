-- The Kafka topic joins the lineage columns, so (`_topic`, `_partition`, `_offset`) names the message every row
-- came from. A flush is announced in the committed offset's metadata, inserted under a deduplication token, then
-- committed; a sink that takes over a partition replays the announced flush with the same token (DESIGN §6.3).
-- ClickHouse can hold a token without its rows (a SIGKILL between the two), so after a replay or a retry the sink
-- counts the range's rows per message by this lineage and inserts what is missing again (src/unstoredLines.ts).
-- Rows written in embedded mode keep `_topic` empty.
--
-- Only comments changed here since the migration first shipped: the runner records a checksum but does not
-- compare it, and this file's statements are what ran.

ALTER TABLE tidemark.events{{local}} {{on_cluster}} ADD COLUMN IF NOT EXISTS _topic LowCardinality(String) DEFAULT '' AFTER library;

-- On a cluster the Distributed table needs the column too, or inserts through it drop `_topic`.
{{cluster_only}} ALTER TABLE tidemark.events {{on_cluster}} ADD COLUMN IF NOT EXISTS _topic LowCardinality(String) DEFAULT '' AFTER library;

-- That count reads only one flush's range of offsets. Rows are sorted by day within a project, and offsets grow
-- with time, so a minmax index per granule lets it skip the parts of the table that are older.
ALTER TABLE tidemark.events{{local}} {{on_cluster}} ADD INDEX IF NOT EXISTS lineage_offset _offset TYPE minmax GRANULARITY 1;
