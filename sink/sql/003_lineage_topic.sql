-- The Kafka topic joins the lineage columns, so (`_topic`, `_partition`, `_offset`) names the message every row
-- came from. When a sink takes over a partition (a restart, a rebalance, a replica killed), it asks which
-- offsets past the committed one are already stored and skips them, so a flush that was inserted but never
-- committed is not inserted again (DESIGN §6.3). Rows written in embedded mode keep `_topic` empty.

ALTER TABLE tidemark.events{{local}} {{on_cluster}} ADD COLUMN IF NOT EXISTS _topic LowCardinality(String) DEFAULT '' AFTER library;

-- On a cluster the Distributed table needs the column too, or inserts through it drop `_topic`.
{{cluster_only}} ALTER TABLE tidemark.events {{on_cluster}} ADD COLUMN IF NOT EXISTS _topic LowCardinality(String) DEFAULT '' AFTER library;

-- That question reads only offsets at or past the committed one. Rows are sorted by day within a project, and
-- offsets grow with time, so a minmax index per granule lets it skip the parts of the table that are older.
ALTER TABLE tidemark.events{{local}} {{on_cluster}} ADD INDEX IF NOT EXISTS lineage_offset _offset TYPE minmax GRANULARITY 1;
