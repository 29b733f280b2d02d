import { spawn, spawnSync } from 'node:child_process';
import { createClickHouse } from '@tidemark/store';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { gatewayMessages, groupLag, produceAsGateway } from '../harness/offsets.js';
import { logLines, type Running } from '../harness/processes.js';
import { sinkRestarts } from './support/sinkRestarts.js';

// The window behind the chaos test's one loss (96 760 of 100 000 events stored, the group's lag at 0), held open
// on purpose. chDB's MergeTree appends an insert's deduplication token to its log, then renames the new part
// from tmp_insert_* into place. strace delays that rename, the sink is killed with SIGKILL inside it, and the
// next sink replays the announced flush under the same token, which ClickHouse then drops as a duplicate.
const strace = spawnSync('strace', ['-V']).status === 0;
// CI installs strace (.ci/run does) and must hold the window open: there, no strace, or one that cannot attach,
// fails the test. Elsewhere it skips, saying what it lacks.
const ci = process.env.CI === 'true';
const sinks = sinkRestarts({ name: 'killwindow', brokers: inject('kafkaBrokers'), partitions: 1 });
const { topic, groupId, kafka, admin } = sinks;

beforeAll(sinks.setup);
afterAll(sinks.teardown);

/** A sink that joined its group. */
async function startSinkProcess(): Promise<Running> {
  const sink = await sinks.start();
  await sinks.joined(sink);
  return sink;
}

it.skipIf(!strace && !ci)(
  'stores a flush whose insert was killed after ClickHouse logged its token and before its part was in place',
  async (context) => {
    expect(strace, 'strace is not installed (CI=true: .ci/run installs it)').toBe(true);
    const first = await startSinkProcess();
    // Every rename in the sink process waits 5 s: the first one of a tmp_insert part is where the kill lands.
    const tracer = spawn(
      'strace',
      ['-f', '-qq', '-p', String(first.process.pid), '-e', 'trace=rename,renameat,renameat2'].concat([
        '-e',
        'inject=rename,renameat,renameat2:delay_enter=5000000',
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let traced = '';
    tracer.stderr.on('data', (chunk) => {
      traced += chunk;
    });
    const attached = await Promise.race([
      new Promise<boolean>((resolve) => tracer.once('exit', () => resolve(false))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 1_500)),
    ]);
    // A container without ptrace rights (CAP_SYS_PTRACE, Yama) cannot hold the window open.
    if (!attached && !ci) context.skip(`strace could not attach: ${traced.trim()}`);
    expect(attached, `strace could not attach: ${traced.trim()}`).toBe(true);

    const producer = kafka.producer();
    await producer.connect();
    await produceAsGateway(producer, topic, gatewayMessages('killwindow', 0, 1_000, 20));
    await producer.disconnect();
    await eventually(async () => (/tmp_insert/.test(traced) ? true : undefined), {
      what: 'the sink to reach the rename of its first part',
    });
    first.process.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    tracer.kill('SIGTERM');
    const [announced] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(announced?.partitions[0]).toMatchObject({
      offset: '0',
      metadata: expect.stringContaining('"v":1'),
    });

    const second = await startSinkProcess();
    await eventually(async () => ((await groupLag(admin, groupId, topic)) === 0 ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the second sink to commit every message',
    });
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const clickhouse = createClickHouse({ chdbPath: sinks.chdbPath });
    try {
      const [stored] = await clickhouse.query<{ rows: string; distinct: string; final: string }>(
        `SELECT count() AS rows, uniqExact(event_id) AS distinct,
                (SELECT count() FROM tidemark.events FINAL WHERE project_id = 'killwindow') AS final
         FROM tidemark.events WHERE project_id = 'killwindow'`,
      );
      // Without FINAL (copies would count) and with it (what the shipped queries see).
      expect({
        rows: Number(stored?.rows),
        distinct: Number(stored?.distinct),
        final: Number(stored?.final),
      }).toEqual({ rows: 1_000, distinct: 1_000, final: 1_000 });
    } finally {
      await clickhouse.close();
    }
    // The replay went under the logged token and stored nothing; the rows came from the check that followed it.
    expect(logLines(second, 'replaying an announced flush')).toHaveLength(1);
    expect(
      logLines(second, 'rows missing although ClickHouse took their token; inserting them again'),
    ).toEqual([expect.objectContaining({ rows: 1_000, messages: 50 })]);
  },
  120_000,
);
