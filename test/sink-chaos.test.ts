import { createClickHouse } from '@tidemark/store';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { auditStored, gatewayMessages, groupLag, produceAsGateway } from '../harness/offsets.js';
import { logLines, type Running } from '../harness/processes.js';
import { sinkRestarts } from './support/sinkRestarts.js';

// DESIGN §6.3 under fire: the sink process (chDB in it) is killed with SIGKILL at random moments while 100 000
// events flow in, and started again on the same data directory each time. Whatever a kill interrupts (a fetch,
// an INSERT half written, an insert done but not committed), every event must end up in the table once.
const events = 100_000;
const rowsPerMessage = 20;
const kills = 4;
const sinks = sinkRestarts({
  name: 'chaos',
  brokers: inject('kafkaBrokers'),
  partitions: 4,
  // Small flushes: many inserts and commits for the kills to land between and inside.
  env: { TIDEMARK_SINK_MAX_ROWS: '4000' },
});
const { topic, groupId, kafka, admin, runs } = sinks;
let sink: Running | undefined;

beforeAll(sinks.setup);
afterAll(sinks.teardown);

/** A sink's JSON log line; undefined for anything else, such as the line a SIGKILL cut short. */
function parseLogLine(line: string): { msg?: string; partition?: unknown } | undefined {
  try {
    return JSON.parse(line) as { msg?: string; partition?: unknown };
  } catch {
    return undefined;
  }
}

/**
 * Every run's own log lines (kafkajs' chatter left out) that bear on the partitions with findings, numbered by
 * run, in the order they were written.
 */
function sinkStory(findings: { partition: number }[]): string {
  const partitions = new Set(findings.map((f) => f.partition));
  return runs
    .flatMap((run, i) =>
      run.output
        .split('\n')
        .map((line) => ({ line, entry: parseLogLine(line) }))
        .filter(({ entry }) => entry && !entry.msg?.startsWith('kafkajs '))
        .filter(({ entry }) => typeof entry?.partition !== 'number' || partitions.has(entry.partition))
        .map(({ line }) => `sink ${i + 1}: ${line}`),
    )
    .join('\n');
}

it('stores 100 000 events exactly once although the sink is killed with SIGKILL again and again', async () => {
  const producer = kafka.producer();
  await producer.connect();
  // The gateway's messages: the rows of one request for one visitor, gzip, acks=all. Produced in waves so
  // that events keep arriving while the sink dies and comes back.
  const waves = 10;
  const produce = (async () => {
    for (let wave = 0; wave < waves; wave++) {
      const messages = gatewayMessages(
        'chaos',
        wave * (events / waves),
        (wave + 1) * (events / waves),
        rowsPerMessage,
      );
      await produceAsGateway(producer, topic, messages);
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  })();

  sink = await sinks.start();
  for (let k = 0; k < kills; k++) {
    // Kill once the sink is consuming (it inserted something), a random moment later.
    const current = sink;
    await sinks.joined(current);
    await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 2_500));
    current.process.kill('SIGKILL');
    expect(await current.exited).toBeNull();
    sink = await sinks.start();
  }
  await produce;
  await producer.disconnect();

  // Everything committed: the last sink inserted and committed every message. It must be up first, or the
  // SIGTERM below could reach it before it installed its handler.
  const final = sink;
  await sinks.joined(final, 'the last sink to join its group');
  await eventually(async () => ((await groupLag(admin, groupId, topic)) === 0 ? true : undefined), {
    timeoutMs: 120_000,
    intervalMs: 500,
    what: 'the group to commit every message',
  });
  const last = sink;
  last.process.kill('SIGTERM');
  expect(await last.exited).toBe(0);
  sink = undefined;

  const clickhouse = createClickHouse({ chdbPath: sinks.chdbPath });
  try {
    // No FINAL, no OPTIMIZE: the rows as they are, duplicates would be counted; and under FINAL, as the shipped
    // queries read them.
    const [stored] = await clickhouse.query<Record<string, unknown>>(
      `SELECT count() AS rows, uniqExact(event_id) AS distinct,
              uniqExact(JSONExtractUInt(properties, 'n')) AS numbers,
              (SELECT count() FROM tidemark.events FINAL WHERE project_id = 'chaos') AS final
       FROM tidemark.events WHERE project_id = 'chaos'`,
    );
    const counts = {
      final: Number(stored?.final),
      rows: Number(stored?.rows),
      distinct: Number(stored?.distinct),
      numbers: Number(stored?.numbers),
    };
    // A loss here once showed as a bare count (96 760 of 100 000 with the lag at 0). Name the messages that
    // are missing or doubled, and give the sinks' own account of those partitions, so one failure explains itself.
    const findings = await auditStored(clickhouse, admin, topic, rowsPerMessage);
    expect(
      { ...counts, findings },
      findings.length === 0 ? undefined : `what the sinks logged:\n${sinkStory(findings)}`,
    ).toEqual({ final: events, rows: events, distinct: events, numbers: events, findings: [] });
  } finally {
    await clickhouse.close();
  }
  const replayed = runs.flatMap((r) => logLines(r, 'replaying an announced flush')).length;
  const reinserted = runs.flatMap((r) =>
    logLines(r, 'rows missing although ClickHouse took their token; inserting them again'),
  ).length;
  console.log(
    `chaos: ${kills} kills, ${replayed} announced flushes replayed after a kill, ` +
      `${reinserted} found short behind their token and inserted again`,
  );
}, 300_000);
