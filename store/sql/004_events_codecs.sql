-- Column codecs for tidemark.events, measured with bench/schema.ts (200k realistic rows on chDB; numbers in
-- the README). ClickHouse's default LZ4 leaves most of the table's bytes on the table:
--   * ZSTD(1) halves every string column (url, path, title, referrer, properties, ids) and the
--     LowCardinality dictionaries' index streams, and takes a third off the DateTime64 columns.
--   * Delta or DoubleDelta before ZSTD does NOT help the timestamps here: rows are sorted by project, day,
--     event and visitor, not by time, so neighbouring timestamps are not close (measured worse than ZSTD alone).
--   * traits and library are small JSON documents repeated almost verbatim: ZSTD(3) stores them in a tenth
--     (library) or 60 % (traits) of ZSTD(1)'s bytes, at no cost for the hot columns.
-- Changing only a codec is a metadata change: new parts and merges write the new codec, existing parts are
-- rewritten as they merge (or at once with OPTIMIZE TABLE … FINAL). Re-running this ALTER is a no-op.

ALTER TABLE tidemark.events{{local}} {{on_cluster}}
    MODIFY COLUMN event_id CODEC(ZSTD(1)),
    MODIFY COLUMN timestamp CODEC(ZSTD(1)),
    MODIFY COLUMN client_ts CODEC(ZSTD(1)),
    MODIFY COLUMN sent_at CODEC(ZSTD(1)),
    MODIFY COLUMN received_at CODEC(ZSTD(1)),
    MODIFY COLUMN anonymous_id CODEC(ZSTD(1)),
    MODIFY COLUMN user_id CODEC(ZSTD(1)),
    MODIFY COLUMN session_id CODEC(ZSTD(1)),
    MODIFY COLUMN url CODEC(ZSTD(1)),
    MODIFY COLUMN path CODEC(ZSTD(1)),
    MODIFY COLUMN query CODEC(ZSTD(1)),
    MODIFY COLUMN title CODEC(ZSTD(1)),
    MODIFY COLUMN referrer CODEC(ZSTD(1)),
    MODIFY COLUMN utm_campaign CODEC(ZSTD(1)),
    MODIFY COLUMN utm_term CODEC(ZSTD(1)),
    MODIFY COLUMN utm_content CODEC(ZSTD(1)),
    MODIFY COLUMN properties CODEC(ZSTD(1)),
    MODIFY COLUMN screen_width CODEC(ZSTD(1)),
    MODIFY COLUMN screen_height CODEC(ZSTD(1)),
    MODIFY COLUMN _partition CODEC(ZSTD(1)),
    MODIFY COLUMN _offset CODEC(ZSTD(1)),
    MODIFY COLUMN _inserted_at CODEC(ZSTD(1)),
    MODIFY COLUMN project_id CODEC(ZSTD(1)),
    MODIFY COLUMN type CODEC(ZSTD(1)),
    MODIFY COLUMN event CODEC(ZSTD(1)),
    MODIFY COLUMN host CODEC(ZSTD(1)),
    MODIFY COLUMN referrer_host CODEC(ZSTD(1)),
    MODIFY COLUMN utm_source CODEC(ZSTD(1)),
    MODIFY COLUMN utm_medium CODEC(ZSTD(1)),
    MODIFY COLUMN browser CODEC(ZSTD(1)),
    MODIFY COLUMN browser_version CODEC(ZSTD(1)),
    MODIFY COLUMN os CODEC(ZSTD(1)),
    MODIFY COLUMN device_type CODEC(ZSTD(1)),
    MODIFY COLUMN country CODEC(ZSTD(1)),
    MODIFY COLUMN locale CODEC(ZSTD(1)),
    MODIFY COLUMN bot_reason CODEC(ZSTD(1)),
    MODIFY COLUMN traits CODEC(ZSTD(3)),
    MODIFY COLUMN library CODEC(ZSTD(3));
