import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClickHouse, createClickHouse } from './clickhouse.js';
import { quarantineRows } from './insertEvents.js';
import { migrate } from './migrate.js';
import { personEvents } from './people.js';
import {
  createRegulation,
  getRegulation,
  regulationLog,
  reopenRegulations,
  runRegulation,
} from './regulations.js';
import { makeRow, toJsonEachRow } from './row.fixture.js';
import type { EventRow } from './row.js';
import { insertUniqueEvents } from './uniqueEvents.js';

// The real engine (chDB), one data directory for this file's process (DESIGN §7).
let dir: string;
let ch: ClickHouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-store-regulations-'));
  ch = createClickHouse({ chdbPath: dir });
  await migrate(ch);
});

afterAll(async () => {
  await ch.close();
  await rm(dir, { recursive: true, force: true });
});

const project = 'reg';

function ev(anonymous_id: string, user_id: string, ts: string, overrides: Partial<EventRow> = {}): EventRow {
  return makeRow({
    project_id: project,
    anonymous_id,
    user_id,
    session_id: `${anonymous_id}-s`,
    timestamp: ts,
    received_at: ts,
    path: '/pricing',
    ...overrides,
  });
}

// Ada browses on her phone, signs up on her laptop (identify), buys on a tablet logged in; Bob and Cy are
// others, Cy on the same hours and pages as Ada, so her removal changes rows they share.
const ada = [
  ev('ada-phone', '', '2026-03-01 10:05:00.000'),
  ev('ada-phone', '', '2026-03-01 10:07:00.000', { type: 'track', event: 'Clicked' }),
  ev('ada-laptop', '', '2026-03-01 11:00:00.000'),
  ev('ada-laptop', 'ada', '2026-03-01 11:01:00.000', { type: 'identify', event: '$identify' }),
  ev('ada-phone', 'ada', '2026-03-01 12:00:00.000', { type: 'identify', event: '$identify' }),
  ev('ada-tablet', 'ada', '2026-03-02 09:00:00.000', { type: 'track', event: 'Order Completed' }),
  ev('ada-laptop', '', '2026-03-02 09:30:00.000'),
];
const others = [
  ev('bob-1', '', '2026-03-01 10:06:00.000'),
  ev('bob-1', 'bob', '2026-03-01 11:02:00.000', { type: 'track', event: 'Order Completed' }),
  ev('cy-1', '', '2026-03-01 10:05:30.000'),
  ev('cy-1', '', '2026-03-02 09:10:00.000'),
  // Bob logs in on Ada's laptop without reset(): that event is Bob's, and stays.
  ev('ada-laptop', 'bob', '2026-03-02 09:20:00.000', { type: 'track', event: 'Clicked' }),
];

/** What the rollups say, next to the same numbers from the raw events. */
async function rollupsAndRaw() {
  const q = (sql: string) => ch.query<Record<string, string>>(sql, { project });
  return {
    traffic: await q(`SELECT hour, sum(events) AS events, groupBitmapMerge(visitors) AS visitors
      FROM tidemark.traffic_hours WHERE project_id = {project:String} AND dimension = ''
      GROUP BY hour ORDER BY hour`),
    trafficRaw:
      await q(`SELECT toStartOfHour(timestamp) AS hour, count() AS events, uniqExact(anonymous_id) AS visitors
      FROM tidemark.events WHERE project_id = {project:String} GROUP BY hour ORDER BY hour`),
    sessions: await q(`SELECT count(DISTINCT session) AS n FROM tidemark.session_hours
      WHERE project_id = {project:String}`),
    sessionsRaw: await q(`SELECT count(DISTINCT session_id) AS n FROM tidemark.events
      WHERE project_id = {project:String}`),
    pages: await q(`SELECT day, sum(pageviews) AS views, groupBitmapMerge(visitors) AS visitors
      FROM tidemark.page_days WHERE project_id = {project:String} GROUP BY day ORDER BY day`),
    pagesRaw: await q(`SELECT toDate(timestamp) AS day, count() AS views, uniqExact(anonymous_id) AS visitors
      FROM tidemark.events WHERE project_id = {project:String} AND type = 'page' GROUP BY day ORDER BY day`),
  };
}

async function rowsOf(where: string): Promise<number> {
  const [r] = await ch.query<{ n: string }>(`SELECT count() AS n FROM tidemark.events WHERE ${where}`);
  return Number(r?.n);
}

it('deletes a person across devices from events, quarantine, links and every rollup, and keeps everyone else', async () => {
  await insertUniqueEvents(ch, toJsonEachRow([...ada, ...others]));
  await quarantineRows(ch, [
    {
      topic: '',
      partition: '0',
      offset: '0',
      error: 'test',
      row: JSON.stringify({ anonymous_id: 'ada-phone', user_id: '' }),
    },
    {
      topic: '',
      partition: '0',
      offset: '1',
      error: 'test',
      row: JSON.stringify({ anonymous_id: 'cy-1', user_id: '' }),
    },
  ]);
  const before = await rollupsAndRaw();
  expect(before.traffic).toEqual(before.trafficRaw);
  expect(before.pages).toEqual(before.pagesRaw);
  expect((await personEvents(ch, project, 'ada')).trim().split('\n')).toHaveLength(ada.length);
  const linked = await ch.query<{ distinct_id: string }>(
    `SELECT distinct_id FROM (SELECT distinct_id, min(link).2 AS user_id FROM tidemark.person_links
     GROUP BY project_id, distinct_id) WHERE user_id = 'ada' ORDER BY distinct_id`,
  );
  expect(linked.map((l) => l.distinct_id)).toEqual(['ada-laptop', 'ada-phone', 'ada-tablet']);

  const reg = await createRegulation(ch, {
    regulationType: 'DELETE_ONLY',
    subjectType: 'USER_ID',
    subjectIds: ['ada'],
    requestedBy: 'test',
  });
  const done = await runRegulation(ch, reg.id, { settleMs: 10 });

  expect(done.status).toBe('FINISHED');
  expect(done.removed['tidemark.events']).toBe(ada.length);
  expect(done.removed['tidemark.events_quarantine']).toBe(1);
  expect(await rowsOf("user_id = 'ada' OR (user_id = '' AND anonymous_id LIKE 'ada-%')")).toBe(0);
  expect(await rowsOf("project_id = 'reg'")).toBe(others.length);
  const links = await ch.query<{ distinct_id: string }>(
    `SELECT distinct_id FROM (SELECT distinct_id, min(link).2 AS user_id FROM tidemark.person_links
     GROUP BY project_id, distinct_id) WHERE user_id = 'ada' ORDER BY distinct_id`,
  );
  expect(links).toEqual([]);
  const [parked] = await ch.query<{ n: string }>('SELECT count() AS n FROM tidemark.events_quarantine');
  expect(Number(parked?.n)).toBe(1);
  const after = await rollupsAndRaw();
  expect(after.traffic).toEqual(after.trafficRaw);
  expect(after.sessions).toEqual(after.sessionsRaw);
  expect(after.pages).toEqual(after.pagesRaw);
  expect(after.traffic).not.toEqual(before.traffic);
  expect((await regulationLog(ch, reg.id)).map((l) => l.step)).toContain('finished');
  expect((await getRegulation(ch, reg.id)).status).toBe('FINISHED');

  // Late arrivals: a resend of an event from before the deletion is left out; what Ada does after it is kept.
  const late = await insertUniqueEvents(
    ch,
    toJsonEachRow([
      ev('ada-phone', '', '2026-03-01 10:09:00.000'),
      ev('ada-tablet', 'ada', '2099-01-01 00:00:00.000', { received_at: '2099-01-01 00:00:00.000' }),
    ]),
  );
  expect(late.erased).toBe(1);
  expect(await rowsOf("user_id = 'ada'")).toBe(1);
});

it('suppresses a subject: every later event is left out at insert until UNSUPPRESS', async () => {
  const suppress = await createRegulation(ch, {
    regulationType: 'SUPPRESS_WITH_DELETE',
    subjectType: 'ANONYMOUS_ID',
    subjectIds: ['cy-1'],
    requestedBy: 'test',
  });
  await runRegulation(ch, suppress.id, { settleMs: 10 });
  expect(await rowsOf("anonymous_id = 'cy-1'")).toBe(0);
  const later = () =>
    insertUniqueEvents(
      ch,
      toJsonEachRow([ev('cy-1', '', '2099-02-01 00:00:00.000', { received_at: '2099-02-01 00:00:00.000' })]),
    );
  expect((await later()).erased).toBe(1);
  expect(await rowsOf("anonymous_id = 'cy-1'")).toBe(0);

  const unsuppress = await createRegulation(ch, {
    regulationType: 'UNSUPPRESS',
    subjectType: 'ANONYMOUS_ID',
    subjectIds: ['cy-1'],
    requestedBy: 'test',
  });
  await runRegulation(ch, unsuppress.id, { settleMs: 10 });
  expect((await later()).erased).toBe(0);
  expect(await rowsOf("anonymous_id = 'cy-1'")).toBe(1);
});

it('erases a device whose identify arrives after the regulation finished: the insert that drops it records the device, the regulation reopens and deletes its earlier anonymous events', async () => {
  // Dee browses on her phone anonymously; Eve identified on a shared kiosk before Dee ever used it.
  await insertUniqueEvents(
    ch,
    toJsonEachRow([
      ev('dee-phone', '', '2026-04-01 10:00:00.000'),
      ev('dee-phone', '', '2026-04-01 10:01:00.000'),
      ev('dee-laptop', 'dee', '2026-04-01 10:02:00.000', { type: 'identify', event: '$identify' }),
      ev('kiosk', '', '2026-04-01 09:00:00.000'),
      ev('kiosk', 'eve', '2026-04-01 09:01:00.000', { type: 'identify', event: '$identify' }),
    ]),
  );
  const reg = await createRegulation(ch, {
    regulationType: 'SUPPRESS_WITH_DELETE',
    subjectType: 'USER_ID',
    subjectIds: ['dee'],
    requestedBy: 'test',
  });
  await runRegulation(ch, reg.id, { settleMs: 10 });
  // The phone was never linked: the regulation could not know it.
  expect(await rowsOf("anonymous_id = 'dee-phone'")).toBe(2);
  expect(await reopenRegulations(ch)).toEqual([]);

  // The phone's identify (and Dee's log-in on the kiosk) had been waiting in Kafka; both are dropped.
  const late = await insertUniqueEvents(
    ch,
    toJsonEachRow([
      ev('dee-phone', 'dee', '2026-04-01 10:03:00.000', { type: 'identify', event: '$identify' }),
      ev('kiosk', 'dee', '2026-04-01 10:04:00.000', { type: 'identify', event: '$identify' }),
    ]),
  );
  expect(late.erased).toBe(2);
  expect(await reopenRegulations(ch)).toEqual([reg.id]);
  expect((await getRegulation(ch, reg.id)).status).toBe('RUNNING');
  const done = await runRegulation(ch, reg.id, { settleMs: 10 });
  expect(done.status).toBe('FINISHED');
  expect(done.ids).toContain('p:dee-phone');
  expect(await rowsOf("anonymous_id = 'dee-phone'")).toBe(0);
  // The kiosk's earliest link is Eve's: its anonymous events are hers and stay.
  expect(done.ids).not.toContain('p:kiosk');
  expect(await rowsOf("anonymous_id = 'kiosk'")).toBe(2);
  expect((await regulationLog(ch, reg.id)).map((l) => l.step)).toContain('reopened');
  expect(await reopenRegulations(ch)).toEqual([]);
});

it('DELETE_ONLY removes what happened before it and keeps what came after, in its deletion passes too', async () => {
  const device = 'dan-1';
  await insertUniqueEvents(ch, toJsonEachRow([ev(device, '', '2026-03-01 10:00:00.000')]));
  const reg = await createRegulation(ch, {
    regulationType: 'DELETE_ONLY',
    subjectType: 'ANONYMOUS_ID',
    subjectIds: [device],
    requestedBy: 'test',
  });
  // Made and received after the regulation was asked for, stored before its passes run: not the regulation's.
  const after = '2099-03-01 00:00:00.000';
  expect(
    (await insertUniqueEvents(ch, toJsonEachRow([ev(device, '', after, { received_at: after })]))).erased,
  ).toBe(0);
  await runRegulation(ch, reg.id, { settleMs: 10 });
  expect(await rowsOf(`anonymous_id = '${device}' AND timestamp < '2099-01-01'`)).toBe(0);
  expect(await rowsOf(`anonymous_id = '${device}' AND timestamp = '${after}'`)).toBe(1);
});
