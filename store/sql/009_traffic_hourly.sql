-- Traffic per hour, with the dashboard's filters in the key (DESIGN §5): page views, events, and the exact sets of
-- visitors and sessions, per project, UTC hour, host, country and device type, for the whole traffic and broken
-- down by one more dimension. The ready queries that count events or distinct visitors (overview's visitors and
-- page views, visitors_over_time, top_pages, browsers, operating_systems, devices, countries, custom_events) read
-- whole hours here and the minutes at the edges of their range from tidemark.events.
--
-- Exact because each event reaches the view once: tidemark.events refuses a row whose event_id is already stored
-- (migration 008), a retried insert is dropped here by the deduplication window (see 005_pageviews_hourly.sql),
-- and the uniques are uniqExact states (every visitor's 128-bit hash), which merge without loss across hours,
-- hosts, countries and devices. Bots are left out, as every ready query leaves them out.
--
-- One row of tidemark.events feeds up to five rows, one per `dimension`:
--   ''         every event; value ''                 → visitors, page views, devices, countries
--   'browser'  every event; value the browser         → browsers
--   'os'       every event; value the OS              → operating_systems
--   'page'     page views; value the path            → top_pages (host is in the key)
--   'event'    track events not starting with '$'; value the event name → custom_events

CREATE TABLE IF NOT EXISTS tidemark.traffic_hourly_state{{local}} {{on_cluster}}
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
    visitors          AggregateFunction(uniqExact, String),
    -- Session ids, kept for the 'event' rows only (custom_events' sessions): elsewhere they would double the bytes.
    sessions          AggregateFunction(uniqExactIf, String, UInt8)
)
ENGINE = {{engine traffic_hourly_state AggregatingMergeTree()}}
PARTITION BY toYYYYMM(hour)
-- The dimension before the hour: each query reads one dimension's rows over its hours, and nothing else.
ORDER BY (project_id, dimension, hour, host, country, device_type, value, backfill)
-- Deduplicates the view's block of a retried insert (see 005_pageviews_hourly.sql).
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed traffic_hourly_state cityHash64(project_id, hour)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.traffic_hourly_mv {{on_cluster}}
TO tidemark.traffic_hourly_state{{local}}
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
    uniqExactState(anonymous_id) AS visitors,
    uniqExactIfState(session_id, session_id != '' AND dimension = 'event') AS sessions
FROM tidemark.events{{local}}
ARRAY JOIN
    arrayConcat(
        [('', ''), ('browser', toString(browser)), ('os', toString(os))],
        if(type = 'page', [('page', path)], []),
        if(type = 'track' AND NOT startsWith(event, '$'), [('event', toString(event))], [])) AS d
WHERE bot_reason = ''
GROUP BY project_id, dimension, hour, host, country, device_type, value;

-- The backfill: the events stored before the view existed, without stopping ingestion. The view counts every row
-- inserted since its creation; this counts the rows whose _inserted_at is older than that moment (system.tables
-- keeps it to the second, so a row inserted in the same second just before the view was created is counted by
-- neither: the window is under a second, and an insert in flight at that moment is the only thing it can hold).
-- FINAL, because rows stored before migration 008 may still hold copies of a resent event. Idempotent: a re-run
-- (or a run after a backfill that failed half-way) first deletes the rows an earlier backfill wrote.
DELETE FROM tidemark.traffic_hourly_state{{local}} {{on_cluster}} WHERE backfill = 1;

{{this_node}} INSERT INTO tidemark.traffic_hourly_state
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
    uniqExactState(anonymous_id) AS visitors,
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
      WHERE database = 'tidemark' AND name = 'traffic_hourly_mv')
GROUP BY project_id, dimension, hour, host, country, device_type, value;
