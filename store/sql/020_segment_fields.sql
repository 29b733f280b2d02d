-- What a Segment-spec client sends beyond the columns of 001 (issue 19), so that nothing it sent is lost and all of
-- it is reachable from SQL (JSONExtract*, JSON_VALUE), like `properties` and `traits`:
--   * message_id   the event's messageId exactly as the client sent it (event_id is that id only when it is a
--                  UUID, else a hash of it); the event_id's text when the client sent none.
--   * context      the event's whole `context`, merged with the batch's (the event's values win), without `ip`,
--                  which Tidemark never stores.
--   * integrations the event's `integrations` (merged with the batch's the same way): which destinations the
--                  sender meant the event for.
--   * extra        any other top-level field of the event that no column holds (RudderStack's `channel`, a
--                  client's own additions), as one JSON object.
-- Rows stored before this migration read '' and '{}'. Number 020, not the next free one: 012 to 019 are left to
-- work that was under way when this was written; the runner orders by number and needs no contiguity.

ALTER TABLE tidemark.events{{local}} {{on_cluster}}
    ADD COLUMN IF NOT EXISTS message_id String DEFAULT '' CODEC(ZSTD(1)) AFTER library,
    ADD COLUMN IF NOT EXISTS context String DEFAULT '{}' CODEC(ZSTD(3)) AFTER message_id,
    ADD COLUMN IF NOT EXISTS integrations String DEFAULT '{}' CODEC(ZSTD(3)) AFTER context,
    ADD COLUMN IF NOT EXISTS extra String DEFAULT '{}' CODEC(ZSTD(3)) AFTER integrations;

-- On a cluster the Distributed table needs the columns too, or inserts through it drop them.
{{cluster_only}} ALTER TABLE tidemark.events {{on_cluster}}
    ADD COLUMN IF NOT EXISTS message_id String DEFAULT '' AFTER library,
    ADD COLUMN IF NOT EXISTS context String DEFAULT '{}' AFTER message_id,
    ADD COLUMN IF NOT EXISTS integrations String DEFAULT '{}' AFTER context,
    ADD COLUMN IF NOT EXISTS extra String DEFAULT '{}' AFTER integrations;
