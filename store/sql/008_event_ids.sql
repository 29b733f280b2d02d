-- The ids of stored events (DESIGN §5, §6): the sink and the embedded writer look every row's event_id up here
-- before they insert it, and add the ids of what they inserted once the insert returned (store/src/
-- unique-events.ts), so a copy of an event that is already stored is never inserted again and a plain count()
-- of tidemark.events counts events, not copies.
--
-- EmbeddedRocksDB: a key-value table, so a lookup of a flush's ids is a point read per id whatever the table's
-- size (measured on chDB 3.4: 40 000 ids in 0.2–0.4 s, hits or not; ~15–20 bytes per id on disk), and writing an
-- id twice keeps one key. Not a materialized view from tidemark.events: a view's block can reach this table
-- before the events part is committed, and an id here whose row never landed would make the retry drop the row.
--
-- The argument is the TTL in seconds: an id is forgotten 30 days after it was last written. That is the window
-- in which a late copy is recognised; the SDK gives up on queued events after 7 days (`maxQueueAge`), and
-- Segment's server libraries retry for minutes, its mobile libraries until the app next runs with a network.
-- A copy later than 30 days is stored again; ReplacingMergeTree collapses it on merge and FINAL hides it.
--
-- On a cluster this table exists on every node and holds what passed through that node (it is not replicated):
-- see DESIGN §5.

CREATE TABLE IF NOT EXISTS tidemark.event_ids {{on_cluster}}
(
    event_id UUID
)
ENGINE = EmbeddedRocksDB(2592000)
PRIMARY KEY event_id;

-- The ids already stored, without stopping ingestion: ids the sink or the writer add meanwhile are written
-- twice, which keeps one key. Events older than the window are left out, as the TTL would drop them anyway.
-- An INSERT has no ON CLUSTER: on a cluster this fills the id table of the node the migration talks to, from
-- every shard (tidemark.events is then the Distributed table).
{{this_node}} INSERT INTO tidemark.event_ids (event_id)
SELECT DISTINCT event_id FROM tidemark.events WHERE _inserted_at >= now64(3) - INTERVAL 30 DAY;
