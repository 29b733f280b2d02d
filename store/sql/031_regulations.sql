-- Regulations (DESIGN §5b): requests to delete and/or suppress a data subject, in the shape of Segment's
-- Regulations API, kept durable and audited here so that every gateway and sink applies them after any restart.

-- One row per state of a regulation; the latest (`updated_at`) is its state. A regulation is run to the end by
-- whichever process holds it, and re-run from its recorded phase after a restart: every phase is safe to repeat.
CREATE TABLE IF NOT EXISTS tidemark.regulations {{on_cluster}}
(
    id              String,
    created_at      DateTime64(3, 'UTC'),
    updated_at      DateTime64(3, 'UTC'),
    -- DELETE_ONLY, SUPPRESS_ONLY, SUPPRESS_WITH_DELETE, UNSUPPRESS.
    regulation_type LowCardinality(String),
    -- USER_ID, ANONYMOUS_ID.
    subject_type    LowCardinality(String),
    subject_ids     Array(String),
    -- Who asked: the admin token's holder as the request named itself, and where it came from.
    requested_by    String,
    -- INITIALIZED, RUNNING, FINISHED, FAILED.
    status          LowCardinality(String),
    -- The expanded subjects: every user id and anonymous id of the people named, as `u:<id>` / `a:<id>`.
    ids             Array(String),
    -- Rows removed, by table.
    removed         Map(String, UInt64),
    error           String
)
ENGINE = {{engine regulations ReplacingMergeTree(updated_at)}}
ORDER BY id;

-- The audit trail: one row per step of every regulation, never updated.
CREATE TABLE IF NOT EXISTS tidemark.regulation_log {{on_cluster}}
(
    at            DateTime64(3, 'UTC') DEFAULT now64(3),
    regulation_id String,
    step          LowCardinality(String),
    detail        String
)
ENGINE = {{engine regulation_log MergeTree()}}
ORDER BY (regulation_id, at);

-- What the sink and the embedded writer look every row's ids up in, before inserting it: `u:<user id>` or
-- `a:<anonymous id>`. `suppressed`: drop every event of the id; `deleted_before`: drop the events that happened
-- (or were received) before that moment, which a deletion covers wherever they still are (Kafka's backlog, an SDK
-- queue, a resend days later). A point read per id, as tidemark.event_ids (008). Never expires.
CREATE TABLE IF NOT EXISTS tidemark.erased_ids {{on_cluster}}
(
    id             String,
    regulation_id  String,
    suppressed     UInt8,
    deleted_before DateTime64(3, 'UTC')
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY id;

-- The rollup rows a deletion touches, kept from before the subject's events are deleted until the rollups are
-- corrected: a restart between the two still knows which keys to recompute (store/src/rollupCorrection.ts).
-- `view` is the materialized view, '' for the (project, day) pairs whose events are recomputed.
CREATE TABLE IF NOT EXISTS tidemark.erasure_keys {{on_cluster}}
(
    regulation_id String,
    view          String,
    key           String
)
ENGINE = {{engine erasure_keys MergeTree()}}
ORDER BY (regulation_id, view, key);
