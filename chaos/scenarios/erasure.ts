// Erasure under faults (issue 20): several people, each on two devices (anonymous ids) that identify mid-way,
// send through the whole distributed pipeline (gateway → Kafka → sink → ClickHouse over HTTP). One of them is
// erased with SUPPRESS_WITH_DELETE by user id while their devices keep sending, resends of events from before the
// regulation included; meanwhile the sink is killed with SIGKILL and the broker frozen with SIGSTOP. Their rows
// are counted when GET /v1/regulations/{id} reports FINISHED and again once the sink's lag is 0: none in
// tidemark.events, the quarantine, the people links or the rollups. Everyone else's acknowledged events are stored
// once and counted as before. The short version is what CI runs (test/chaos-erasure.test.ts).
import { randomUUID } from 'node:crypto';
import { type ClickHouse, createClickHouse } from '@tidemark/store';
import { runQuery } from '../../queries/src/index.js';
import { type Harness, startHarness } from '../harness.js';
import { type Load, startLoad } from '../load.js';
import type { DeliveryResult, Scenario } from '../report.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const ERASED_HOST = 'erased.tidemark.test';
const KEPT_HOST = 'kept.tidemark.test';

/** One person: a user id and the anonymous ids of their two devices. */
interface Person {
  userId: string;
  devices: string[];
}

/** Rows of the erased person, by where they were found; every one must be 0. */
export type PersonRows = Record<string, number>;

/** The overview's headline numbers for a host. */
async function overviewOf(ch: ClickHouse, projectId: string, host: string, from: Date, to: Date) {
  const [row] = await runQuery<
    'overview',
    {
      visitors: number | string;
      people: number | string;
      pageviews: number | string;
      sessions: number | string;
    }
  >(ch, 'overview', { project: projectId, from, to, host, country: '', device_type: '' });
  return {
    visitors: Number(row?.visitors ?? 0),
    people: Number(row?.people ?? 0),
    pageviews: Number(row?.pageviews ?? 0),
    sessions: Number(row?.sessions ?? 0),
  };
}

/**
 * Every row that still names the person: their events by user id or any of their anonymous ids (without FINAL:
 * a row a merge has not removed yet counts), quarantined lines holding any of the ids, their links, their
 * distinct ids in the hourly rollup the overview counts people from, and what the overview reports for the host
 * only they used (its visitors and page views come from the traffic rollup, its sessions from the session rollup).
 */
async function personRows(
  ch: ClickHouse,
  projectId: string,
  person: Person,
  range: { from: Date; to: Date },
): Promise<PersonRows> {
  const ids = [person.userId, ...person.devices];
  const params = { project: projectId, user: person.userId, anonymous: person.devices, ids };
  const one = async (sql: string) => {
    const [row] = await ch.query<{ n: string | number }>(sql, params);
    return Number(row?.n ?? 0);
  };
  const overview = await overviewOf(ch, projectId, ERASED_HOST, range.from, range.to);
  return {
    events: await one(
      `SELECT count() AS n FROM tidemark.events WHERE project_id = {project:String}
         AND (user_id = {user:String} OR has({anonymous:Array(String)}, anonymous_id))`,
    ),
    quarantine: await one(
      `SELECT count() AS n FROM tidemark.events_quarantine WHERE multiSearchAny(row, {ids:Array(String)})`,
    ),
    person_links: await one(
      `SELECT count() AS n FROM tidemark.person_links WHERE project_id = {project:String}
         AND (has({ids:Array(String)}, distinct_id) OR link.2 = {user:String})`,
    ),
    distinct_id_hours: await one(
      `SELECT count() AS n FROM tidemark.distinct_id_hours WHERE project_id = {project:String}
         AND id IN (SELECT reinterpretAsUInt128(sipHash128(arrayJoin({ids:Array(String)}))))`,
    ),
    'overview visitors': overview.visitors,
    'overview people': overview.people,
    'overview pageviews': overview.pageviews,
    'overview sessions': overview.sessions,
  };
}

const total = (rows: PersonRows) => Object.values(rows).reduce((a, b) => a + b, 0);

/** Polls the regulation until it is FINISHED; fails when it FAILED or took over `timeoutMs`. */
async function waitFinished(harness: Harness, id: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last: {
    status?: string;
    error?: string;
    removed?: Record<string, number>;
    log?: { step: string }[];
  } = {};
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${harness.gatewayUrl}/v1/regulations/${id}`, {
        headers: { authorization: `Bearer ${harness.adminToken}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) last = (await response.json()) as typeof last;
    } catch {
      // The gateway may be slow while the machine is busy; ask again.
    }
    if (last.status === 'FINISHED') return last;
    if (last.status === 'FAILED') throw new Error(`the regulation failed: ${last.error}`);
    await sleep(500);
  }
  throw new Error(`the regulation is still ${last.status ?? 'unknown'} after ${seconds(timeoutMs)}`);
}

/** Every device of `person` sends again up to `max` of its acknowledged events; how many were queued. */
const resendAll = (load: Load, person: Person, max: number) =>
  person.devices.reduce((sum, device) => sum + load.resend(device, max), 0);

export const erasure: Scenario<DeliveryResult> = async (options) => {
  const short = options.short;
  const log = options.log ?? ((line: string) => console.log(line));
  const peopleCount = short ? 4 : 10;
  const rate = short ? 40 : 150;
  const settleMs = short ? 8_000 : 30_000;
  const frozenMs = short ? 5_000 : 15_000;
  const warmupMs = short ? 6_000 : 20_000;
  const tailMs = short ? 4_000 : 15_000;
  const started = Date.now();
  const run = randomUUID().slice(0, 8);
  const people: Person[] = Array.from({ length: peopleCount }, (_, i) => ({
    userId: `user-${i}-${run}`,
    devices: [`anon-${i}a-${run}`, `anon-${i}b-${run}`],
  }));
  const erased = people[0] as Person;
  const kept = people.slice(1);
  const keptDevices = new Set(kept.flatMap((p) => p.devices));

  // The broker is frozen: a broker of the harness's own.
  const harness = await startHarness({
    clickhouse: 'http',
    adminToken: `chaos-admin-${randomUUID()}`,
    gatewayEnv: {
      TIDEMARK_REGULATION_SETTLE_MS: String(settleMs),
      TIDEMARK_ERASURE_REFRESH_MS: '1000',
    },
    log,
  });
  const clickhouseUrl = harness.clickhouse?.current.url as string;
  const ch = createClickHouse({ url: clickhouseUrl });
  try {
    const from = new Date(Date.now() - 60_000);
    const load = startLoad({
      url: harness.gatewayUrl,
      writeKey: harness.writeKey,
      rate,
      visitors: peopleCount * 2,
      devices: people.flatMap((p) =>
        p.devices.map((anonymousId) => ({
          anonymousId,
          host: p === erased ? ERASED_HOST : KEPT_HOST,
        })),
      ),
    });
    const failed: string[] = [];
    const notes: string[] = [`rate: ${rate} events/s from ${peopleCount} people on 2 devices each`];
    let atFinish: PersonRows;
    let regulationMs: number;
    let removed: Record<string, number> | undefined;
    let steps: string[] = [];
    let resent = 0;
    let summary: Awaited<ReturnType<Load['stop']>>;
    try {
      // Anonymous first, then each device logs in half-way through the warm-up; but the erased person's second
      // device, which logs in only once the sink is dead (below).
      const late = erased.devices[1] as string;
      await sleep(warmupMs / 2);
      for (const p of people) for (const d of p.devices) if (d !== late) load.identify(d, p.userId);
      await sleep(warmupMs / 2);
      await harness.waitFresh();
      const before = await personRows(ch, harness.projectId, erased, {
        from,
        to: new Date(Date.now() + 60_000),
      });
      log(`erasure: the person's rows before the regulation ${JSON.stringify(before)}`);
      notes.push(`the erased person's rows before: ${JSON.stringify(before)}`);
      if (before.events === 0 || before.person_links === 0)
        failed.push('the erased person had no events or links before the regulation: nothing was tested');

      // The sink dies; the second device logs in, and its identify waits in Kafka's backlog with the person's
      // other events: the link of its earlier anonymous events is not stored when the regulation is asked.
      await harness.sink.kill();
      const identify = load.identify(late, erased.userId);
      while (!load.acked.has(identify)) await sleep(100);
      await sleep(1_000);

      const asked = Date.now();
      const response = await fetch(`${harness.gatewayUrl}/v1/regulations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${harness.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          regulationType: 'SUPPRESS_WITH_DELETE',
          subjectType: 'USER_ID',
          subjectIds: [erased.userId],
          requestedBy: 'chaos erasure scenario',
        }),
      });
      const body = (await response.json()) as { data?: { regulateId?: string } };
      const id = body.data?.regulateId;
      if (!response.ok || id === undefined)
        throw new Error(`POST /v1/regulations answered ${response.status}: ${JSON.stringify(body)}`);
      log(`erasure: regulation ${id} asked`);

      // While it runs: the devices resend what they sent before it, the sink dies, the broker freezes.
      resent += resendAll(load, erased, 30);
      await harness.sink.start();
      resent += resendAll(load, erased, 30);
      const broker = harness.broker;
      if (!broker) throw new Error('the erasure scenario needs the harness’s own broker');
      broker.freeze();
      await sleep(frozenMs);
      broker.thaw();
      resent += resendAll(load, erased, 30);

      const done = await waitFinished(harness, id, 240_000);
      regulationMs = Date.now() - asked;
      removed = done.removed;
      steps = (done.log ?? []).map((line) => line.step);
      atFinish = await personRows(ch, harness.projectId, erased, { from, to: new Date(Date.now() + 60_000) });
      log(`erasure: FINISHED after ${seconds(regulationMs)}; the person's rows ${JSON.stringify(atFinish)}`);

      // The devices go on sending (and resending) after it finished.
      resent += resendAll(load, erased, 30);
      await sleep(tailMs);
    } finally {
      summary = await load.stop();
      log(
        `erasure: load stopped, ${summary.acked.size} of ${summary.generated} events acknowledged, ` +
          `answers ${JSON.stringify(summary.statuses)}`,
      );
    }

    // Everyone else's events: the pages go to the delivery count (which also waits for the lag to reach 0), the
    // identifies are looked up one by one.
    const keptIds = [...summary.acked.keys()].filter((messageId) => {
      const origin = load.origins.get(messageId);
      return origin !== undefined && keptDevices.has(origin.anonymousId);
    });
    const keptPages = keptIds.filter((messageId) => load.origins.get(messageId)?.type === 'page');
    const keptIdentifies = keptIds.filter((messageId) => load.origins.get(messageId)?.type === 'identify');
    const to = new Date(Date.now() + 60_000);
    const counts = await harness.count(keptPages, { from, to });
    const [identifies] = await ch.query<{ rows: string | number; ids: string | number }>(
      `SELECT count() AS rows, uniqExact(event_id) AS ids FROM tidemark.events
        WHERE project_id = {project:String} AND has({ids:Array(UUID)}, event_id)`,
      { project: harness.projectId, ids: keptIdentifies },
    );
    const drained = await personRows(ch, harness.projectId, erased, { from, to });
    const keptOverview = await overviewOf(ch, harness.projectId, KEPT_HOST, from, to);
    // Where the erased person's later events were stopped: at the gateway (before Kafka) or at insert.
    const metrics = await fetch(`${harness.gatewayUrl}/metrics`).then((r) => r.text());
    const suppressed = /^tidemark_gateway_events_suppressed_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1];
    log(`erasure: after the lag reached 0, the person's rows ${JSON.stringify(drained)}`);

    if (total(atFinish) > 0)
      failed.push(`the erased person's rows when it finished: ${JSON.stringify(atFinish)}`);
    if (total(drained) > 0)
      failed.push(`the erased person's rows after the drain: ${JSON.stringify(drained)}`);
    if (
      Number(identifies?.ids) !== keptIdentifies.length ||
      Number(identifies?.rows) !== keptIdentifies.length
    )
      failed.push(
        `the others' identifies: ${keptIdentifies.length} acknowledged, ${identifies?.ids} stored in ${identifies?.rows} rows`,
      );
    const expected = { visitors: keptDevices.size, people: kept.length, pageviews: keptPages.length };
    const seen = {
      visitors: keptOverview.visitors,
      people: keptOverview.people,
      pageviews: keptOverview.pageviews,
    };
    if (JSON.stringify(seen) !== JSON.stringify(expected))
      failed.push(`the others' overview ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`);
    if (summary.unsent > 0) failed.push(`${summary.unsent} events never acknowledged`);
    if (summary.refused > 0) failed.push(`${summary.refused} valid events refused by the gateway`);
    const kills = harness.sink.history.filter((r) => r.process.signalCode === 'SIGKILL').length;
    if (kills !== 1) failed.push(`${kills} of 1 sinks died of SIGKILL`);

    return {
      scenario: `erase 1 of ${peopleCount} people (sink SIGKILL, broker SIGSTOP ${seconds(frozenMs).replace('.0', '')})`,
      faults: kills + 1,
      sent: counts.sent,
      stored: counts.stored,
      lost: counts.lost,
      doubled: counts.doubled,
      rawDuplicates: counts.rawDuplicates,
      renumbered: counts.renumbered,
      counted: counts.counted,
      durationMs: Date.now() - started,
      notes: [
        ...notes,
        `regulation FINISHED after ${seconds(regulationMs)}, removed ${JSON.stringify(removed)}`,
        `regulation audit: ${steps.join(', ')}`,
        `the erased person's events dropped by the gateway before Kafka: ${suppressed ?? 'no metric'}`,
        `the erased person's rows when it finished: ${JSON.stringify(atFinish)}`,
        `the erased person's rows after the drain: ${JSON.stringify(drained)}`,
        `the erased person's events resent with their messageIds: ${resent}`,
        `the others' identifies: ${keptIdentifies.length} acknowledged, ${identifies?.ids} stored in ${identifies?.rows} rows`,
        `the others' overview: ${JSON.stringify(keptOverview)}`,
        `answers: ${JSON.stringify(summary.statuses)}`,
        `stored but never acknowledged: ${counts.unacknowledgedStored}`,
      ],
      ...(failed.length ? { failed } : {}),
    };
  } finally {
    await ch.close();
    await harness.stop();
  }
};
