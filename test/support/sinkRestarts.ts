import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { eventually } from '../../harness/eventually.js';
import { logLines, type Running, startSinkProcess } from '../../harness/processes.js';

/** Options of `sinkRestarts`. */
export interface SinkRestartsOptions {
  /** Names the topic (`tidemark.<name>.<id>`), the group (`<name>-<id>`) and the chDB directory. */
  name: string;
  brokers: string[];
  partitions: number;
  /** Added to every sink's environment. */
  env?: Record<string, string>;
}

/**
 * A topic, a consumer group and a chDB directory of one test file's own, and sink processes on them: killing one
 * and starting the next is a restart on the same data. `setup` and `teardown` are the file's beforeAll and
 * afterAll; teardown SIGKILLs every sink it started.
 */
export function sinkRestarts({ name, brokers, partitions, env = {} }: SinkRestartsOptions) {
  const id = randomUUID().slice(0, 8);
  const topic = `tidemark.${name}.${id}`;
  const groupId = `${name}-${id}`;
  const kafka = new Kafka({ clientId: `tidemark-${name}-test`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  /** Every sink started, first to last: their output tells the story of a failed run. */
  const runs: Running[] = [];
  let chdbPath = '';

  return {
    topic,
    groupId,
    kafka,
    admin,
    runs,
    get chdbPath() {
      return chdbPath;
    },
    async setup() {
      chdbPath = await mkdtemp(join(tmpdir(), `tidemark-${name}-`));
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    },
    async teardown() {
      for (const run of runs) run.process.kill('SIGKILL');
      await admin.disconnect();
      if (chdbPath) await rm(chdbPath, { recursive: true, force: true });
    },
    /**
     * Starts a sink and resolves at once, before it joined its group (see `joined`): listed first, so teardown
     * kills it even when it never joins, and a test can kill it any moment after.
     */
    async start(): Promise<Running> {
      const sink = await startSinkProcess({
        env: {
          KAFKA_BROKERS: brokers.join(','),
          TIDEMARK_KAFKA_TOPIC: topic,
          TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
          TIDEMARK_SINK_GROUP: groupId,
          TIDEMARK_CHDB_PATH: chdbPath,
          TIDEMARK_SINK_MAX_WAIT_MS: '200',
          // A killed member leaves the group when its session times out; keep that short.
          TIDEMARK_SINK_SESSION_TIMEOUT_MS: '6000',
          ...env,
        },
        waitStarted: false,
      });
      runs.push(sink);
      return sink;
    },
    /** Waits, a minute at most, until `sink` logged `sink started`: it joined its group and consumes. */
    async joined(sink: Running, what = 'the sink to join its group'): Promise<void> {
      await eventually(async () => (logLines(sink, 'sink started').length > 0 ? true : undefined), {
        timeoutMs: 60_000,
        what,
      });
    },
  };
}
