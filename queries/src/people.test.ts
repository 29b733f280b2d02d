import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouse, createClickHouse, migrate } from '@tidemark/store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runQuery } from './run.js';

// People who switch devices and log in mid-funnel, on the real engine (chDB). The expected answers come from
// the merge rules written out again in TypeScript below (earliest link wins, aliases chain up to three links),
// never from SQL.
const project = 'people';
const from = '2026-05-01 00:00:00.000';
const to = '2026-05-20 00:00:00.000';

type E = {
  anon: string;
  user: string;
  at: string;
  type: string;
  event: string;
  path: string;
  previousId?: string;
};
const page = (anon: string, user: string, at: string, path: string): E => ({
  anon,
  user,
  at,
  type: 'page',
  event: '$pageview',
  path,
});
const track = (anon: string, user: string, at: string, event: string): E => ({
  anon,
  user,
  at,
  type: 'track',
  event,
  path: '/',
});
const identify = (anon: string, user: string, at: string): E => ({
  anon,
  user,
  at,
  type: 'identify',
  event: '$identify',
  path: '/',
});

const events: E[] = [
  // Ada: pricing on her phone, signs up on her laptop (identified between the steps), later identified on the
  // phone too, and orders on a tablet a week later.
  page('ada-phone', '', '2026-05-01 10:00:00', '/pricing'),
  track('ada-laptop', '', '2026-05-01 10:20:00', 'Signup Started'),
  identify('ada-laptop', 'ada', '2026-05-01 10:21:00'),
  track('ada-laptop', 'ada', '2026-05-01 10:22:00', 'Signup Completed'),
  identify('ada-phone', 'ada', '2026-05-01 18:00:00'),
  track('ada-tablet', 'ada', '2026-05-08 09:00:00', 'Order Completed'),
  // Bob: pricing and the signup start anonymously, completes it logged in on another device.
  page('bob-1', '', '2026-05-01 11:00:00', '/pricing'),
  track('bob-1', '', '2026-05-01 11:05:00', 'Signup Started'),
  identify('bob-1', 'bob', '2026-05-01 11:06:00'),
  track('bob-2', 'bob', '2026-05-01 11:10:00', 'Signup Completed'),
  // Cy: never identified.
  page('cy-1', '', '2026-05-02 08:00:00', '/pricing'),
  page('cy-1', '', '2026-05-09 08:00:00', '/docs'),
  // A shared kiosk without reset(): Dan logs in first, Eve later. Its anonymous events stay Dan's; Eve's
  // logged-in events are hers.
  page('kiosk', '', '2026-05-02 09:00:00', '/pricing'),
  identify('kiosk', 'dan', '2026-05-02 09:05:00'),
  identify('kiosk', 'eve', '2026-05-02 12:00:00'),
  track('kiosk', 'eve', '2026-05-02 12:01:00', 'Signup Started'),
  page('kiosk', '', '2026-05-02 13:00:00', '/pricing'),
  // Fay: identified under an old user id, which an alias later renames.
  page('fay-1', '', '2026-05-03 10:00:00', '/pricing'),
  identify('fay-1', 'fay-old', '2026-05-03 10:01:00'),
  {
    ...identify('fay-2', 'fay', '2026-05-04 10:00:00'),
    type: 'alias',
    event: '$alias',
    previousId: 'fay-old',
  },
  track('fay-2', 'fay', '2026-05-04 10:05:00', 'Signup Started'),
];

const ms = (at: string) => Date.parse(`${at.replace(' ', 'T')}Z`);

/** The merge rules: each id's earliest link, followed up to three links. */
function personOf(e: E): string {
  const links = new Map<string, { at: number; user: string }>();
  const link = (id: string, user: string, at: number) => {
    const was = links.get(id);
    if (!was || at < was.at || (at === was.at && user < was.user)) links.set(id, { at, user });
  };
  for (const x of events) {
    if (x.anon && x.user && x.anon !== x.user) link(x.anon, x.user, ms(x.at));
    if (x.type === 'alias' && x.previousId && x.user && x.previousId !== x.user)
      link(x.previousId, x.user, ms(x.at));
  }
  let id = e.user || e.anon;
  for (let hop = 0; hop < 3; hop += 1) id = links.get(id)?.user ?? id;
  return id;
}

/** windowFunnel: the most steps any actor took in order, each within `window` s of the first. */
function funnel(steps: string[], window: number, actor: (e: E) => string): number[] {
  const stepOf = (e: E) => (e.type === 'page' ? e.path : e.type === 'track' ? e.event : '');
  const byActor = new Map<string, E[]>();
  for (const e of events) byActor.set(actor(e), [...(byActor.get(actor(e)) ?? []), e]);
  const levels = [...byActor.values()].map((es) => {
    const sorted = es.filter((e) => steps.includes(stepOf(e))).sort((a, b) => ms(a.at) - ms(b.at));
    let best = 0;
    for (const [i, first] of sorted.entries()) {
      if (stepOf(first) !== steps[0]) continue;
      let level = 1;
      for (const e of sorted.slice(i + 1)) {
        if (level < steps.length && stepOf(e) === steps[level] && ms(e.at) - ms(first.at) <= window * 1000)
          level += 1;
      }
      best = Math.max(best, level);
    }
    return best;
  });
  return steps.map((_, k) => levels.filter((l) => l >= k + 1).length);
}

let dir: string;
let ch: ClickHouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-people-'));
  ch = createClickHouse({ chdbPath: dir });
  await migrate(ch);
  const rows = events.map((e) =>
    JSON.stringify({
      project_id: project,
      event_id: randomUUID(),
      type: e.type,
      event: e.event,
      timestamp: `${e.at}.000`,
      anonymous_id: e.anon,
      user_id: e.user,
      session_id: `${e.anon}-${e.at.slice(0, 10)}`,
      host: 'shop.example',
      path: e.path,
      properties: e.previousId ? JSON.stringify({ previousId: e.previousId }) : '{}',
    }),
  );
  await ch.insertJsonEachRow('tidemark.events', `${rows.join('\n')}\n`);
});

afterAll(async () => {
  await ch?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const common = { project, from, to };
const numbers = (rows: Record<string, unknown>[], key: string) => rows.map((r) => Number(r[key]));

it('overview counts people beside visitors: one person on several devices is one', async () => {
  const [row] = await runQuery(ch, 'overview', common);
  expect(Number(row?.people)).toBe(new Set(events.map(personOf)).size);
  expect(Number(row?.visitors)).toBe(new Set(events.map((e) => e.anon)).size);
  // ada, bob, cy, dan, eve, fay: six people on nine devices.
  expect([Number(row?.people), Number(row?.visitors)]).toEqual([6, 9]);
});

it('funnel by person follows people across devices and log-ins; by visitor it does not', async () => {
  const steps = ['/pricing', 'Signup Started', 'Signup Completed'];
  const byPerson = await runQuery(ch, 'funnel', { ...common, steps, window: 3600 });
  expect(numbers(byPerson, 'visitors')).toEqual(funnel(steps, 3600, personOf));
  const byVisitor = await runQuery(ch, 'funnel', { ...common, steps, window: 3600, count_by: 'visitor' });
  expect(numbers(byVisitor, 'visitors')).toEqual(funnel(steps, 3600, (e) => e.anon));
  // Ada and Bob complete as people; as devices, nobody does.
  expect(numbers(byPerson, 'visitors')[2]).toBe(2);
  expect(numbers(byVisitor, 'visitors')[2]).toBe(0);
});

it('retention by person: a person who comes back on another device is retained', async () => {
  const rows = await runQuery(ch, 'retention', { ...common, interval: 'week' });
  const week = (at: string) => {
    const d = Math.floor(ms(at) / 86_400_000);
    return d - ((d + 3) % 7);
  };
  const actors = new Map<string, Set<number>>();
  for (const e of events) actors.set(personOf(e), (actors.get(personOf(e)) ?? new Set()).add(week(e.at)));
  const expected = new Map<string, number>();
  for (const weeks of actors.values()) {
    const cohort = Math.min(...weeks);
    for (const w of weeks) {
      const key = `${cohort}:${(w - cohort) / 7}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
  }
  const got = new Map(
    rows.map((r) => [
      `${Math.floor(Date.parse(`${String(r.cohort).replace(' ', 'T')}Z`) / 86_400_000)}:${r.period}`,
      Number(r.visitors),
    ]),
  );
  expect(got).toEqual(expected);
});

it("person_events: a person's timeline across devices, and a shared kiosk's anonymous events stay its first user's", async () => {
  for (const person of ['ada', 'dan', 'eve', 'fay']) {
    const rows = await runQuery(ch, 'person_events', { ...common, person, limit: 100 });
    const want = events.filter((e) => personOf(e) === person).map((e) => [e.at, e.anon, e.user]);
    expect(
      rows.map((r) => [String(r.timestamp).slice(0, 19), r.anonymous_id, r.user_id]),
      person,
    ).toEqual(want.sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  }
});
