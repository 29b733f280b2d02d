import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The sink's Prometheus metrics, one registry per sink so tests and several sinks in a process stay apart. */
export type SinkMetrics = {
  registry: Registry;
  rowsInserted: Counter;
  bytesInserted: Counter;
  rowsQuarantined: Counter;
  rowsReplayed: Counter;
  rowsReinserted: Counter;
  rowsDuplicate: Counter;
  rowsErased: Counter;
  recountFound: Counter;
  insertFailures: Counter<'reason'>;
  insertSeconds: Histogram;
  flushRows: Histogram;
  lag: Gauge<'partition'>;
  buffered: Gauge;
};

/**
 * Creates the metrics served on `GET /metrics`. Lag is per partition: the log end offset last seen in a fetch
 * minus the offset this sink last committed, so it counts what is in Kafka and not yet safe in ClickHouse.
 */
export function createSinkMetrics(opts: { processMetrics?: boolean } = {}): SinkMetrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'tidemark_sink_' });
  const registers = [registry];
  return {
    registry,
    rowsInserted: new Counter({
      name: 'tidemark_sink_rows_inserted_total',
      help: 'Rows inserted into tidemark.events.',
      registers,
    }),
    bytesInserted: new Counter({
      name: 'tidemark_sink_bytes_inserted_total',
      help: 'Bytes of JSONEachRow sent to ClickHouse in successful inserts.',
      registers,
    }),
    rowsQuarantined: new Counter({
      name: 'tidemark_sink_rows_quarantined_total',
      help: 'Rows ClickHouse refused, parked in tidemark.events_quarantine and sent to the dead-letter topic.',
      registers,
    }),
    rowsReplayed: new Counter({
      name: 'tidemark_sink_rows_replayed_total',
      help: 'Rows of flushes rebuilt after a restart or rebalance from the range an earlier owner announced.',
      registers,
    }),
    rowsReinserted: new Counter({
      name: 'tidemark_sink_rows_reinserted_total',
      help: 'Rows of replayed or retried flushes found missing although ClickHouse took their deduplication token, inserted again.',
      registers,
    }),
    rowsDuplicate: new Counter({
      name: 'tidemark_sink_rows_duplicate_total',
      help: 'Rows left out because their event_id was stored already (tidemark.event_ids) or earlier in the same flush.',
      registers,
    }),
    rowsErased: new Counter({
      name: 'tidemark_sink_rows_erased_total',
      help: 'Rows left out because they belong to a subject a regulation erased or suppressed (tidemark.erased_ids).',
      registers,
    }),
    recountFound: new Counter({
      name: 'tidemark_sink_recount_found_total',
      help: 'Lineage recounts after a replay or retry that found rows missing although ClickHouse took their token (normally 0).',
      registers,
    }),
    insertFailures: new Counter({
      name: 'tidemark_sink_insert_failures_total',
      help: 'Failed insert attempts (each is retried with the same deduplication token).',
      labelNames: ['reason'],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'tidemark_sink_insert_duration_seconds',
      help: 'Duration of one flush INSERT into ClickHouse, quarantine included.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    flushRows: new Histogram({
      name: 'tidemark_sink_flush_rows',
      help: 'Rows per flush (one INSERT).',
      buckets: [1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000],
      registers,
    }),
    lag: new Gauge({
      name: 'tidemark_sink_consumer_lag',
      help: 'Messages in the partition past the offset this sink committed last.',
      labelNames: ['partition'],
      registers,
    }),
    buffered: new Gauge({
      name: 'tidemark_sink_buffered_rows',
      help: 'Rows waiting for the next flush.',
      registers,
    }),
  };
}
