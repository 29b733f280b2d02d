// Read speed (issue 18, "Exact at insert, fast at read"): how long the ready queries of queries/ and a full dashboard
// refresh take over N events of realistic traffic, and what the events and their rollups cost on disk.
//   npx tsx bench/read.ts [--events 1000000] [--runs 5] [--optimize] [--data DIR]
// In a fresh chDB directory, through the real migrations (@tidemark/store `migrate`), N events over the last 30 days
// are written by ClickHouse itself (bench/read-events.ts: INSERT … SELECT FROM numbers in chunks, minutes at 10M),
// so every materialized view of the schema fills its rollup. Background merges are let finish (the parts they leave,
// about ten per month of events at 10M, are what a live table has too; `--optimize` merges each month into one
// part first, to which the live events below add their own small parts), then, `--runs` times in turn:
//   - every ready query (@tidemark/queries `runQuery`) over the dashboard's 30-day range, with the parameters the
//     dashboard (gateway/src/dashboard/refresh.js) passes to the ones it shows, and comparable ones to the rest;
//   - a custom-event property breakdown of one property as a user would type it in the console (the ready query
//     event_properties answers every property of the event at once, and is timed with the others);
//   - a full dashboard refresh for each of its ranges (24 h, 7 d, 30 d): its nine panels (bench/read-queries.ts) one after the other,
//     as chDB answers one query at a time per session.
// Printed: p50 and max per query beside the issue's goals, with the process's CPU time per query (chDB's threads
// included) and the load average, since on a shared machine wall time grows with the others' load; storage per
// event (bytes on disk of tidemark.* in system.parts, with and without the rollup tables) with the 100M size it
// implies; the generation time.
// `--data DIR` keeps the chDB directory in DIR instead of a scratch one, and a later run with the same DIR reads the
// events already there instead of generating them (to time the reads again after a change to the queries; a change
// to the migrations needs a fresh DIR).
// Numbers, not a test: it exits non-zero only when something fails to run.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type QueryName, type QueryParams, queryNames, runQuery } from '@tidemark/queries';
import { createClickHouse, migrate } from '@tidemark/store';
import { generate } from './read-events.js';
import {
  benchFilter,
  panels,
  paramsFor,
  propertyBreakdown,
  type Range,
  ranges,
  rawQueries,
} from './read-queries.js';
import { type Figure, report } from './report.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    optimize: { type: 'boolean', default: false },
    data: { type: 'string' },
  },
});
const events = Number(args.events);
const runs = Number(args.runs);
if (!Number.isInteger(events) || events < 1000) throw new Error('--events takes a whole number ≥ 1000');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number ≥ 1');

/** The issue's goals; the 10M ones are judged when N reaches 10M, the 100M ones cannot be here. */
const goals = { atEvents: 10_000_000, panelMs: 100, panelMs100M: 300, refreshMs100M: 1000, rawMs: 1000 };
const project = 'bench';
const day = 86_400_000;
const span = 30 * day;
const scratch = args.data ?? (await mkdtemp(join(tmpdir(), 'tidemark-bench-read-')));
const ch = createClickHouse({ chdbPath: join(scratch, 'chdb') });
const count = (n: number) => n.toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toString());

function runQueryNamed<N extends QueryName>(name: N, params: { [K in QueryName]: QueryParams[K] }) {
  return runQuery(ch, name, params[name]);
}

/** Wall time of `work`, and the CPU time of this process meanwhile (chDB's threads included: it runs in here). */
async function timed(work: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - started, cpu: (used.user + used.system) / 1000 };
}

/** p50 (the upper middle for an even count) and max of a list of ms. */
function stats(values: number[]): { p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

try {
  // --- the data -------------------------------------------------------------------------------------------------
  let begun = performance.now();
  await migrate(ch);
  const migrateSeconds = (performance.now() - begun) / 1000;
  const [kept] = await ch.query<{ n: number; last: number }>(
    'SELECT count() AS n, toUnixTimestamp64Milli(max(timestamp)) AS last FROM tidemark.events',
  );
  const reused = Number(kept?.n ?? 0);
  const end = reused > 0 ? Number(kept?.last) : Date.now();
  const visitors = Math.max(10, Math.round(events / 50));
  const traffic = {
    project,
    visitors,
    visitorsSinceMs: end - span,
    startMs: end - span,
    spanMs: span,
    daily: true,
  };
  const chunkEvents = Math.min(1_000_000, Math.ceil(events / 2));
  // Reused events: the live ones below continue them with session numbers far past any the generation drew, and
  // past those of an earlier run over the same DIR (fewer than one per ms of time passed).
  const main =
    reused > 0
      ? { events: reused, sessions: Date.now(), seconds: 0, chunks: 0 }
      : await generate(ch, traffic, events, {
          chunkEvents,
          onChunk: (stored) =>
            console.log(
              `  ${count(stored)} of ${count(events)} events, ${((performance.now() - begun) / 1000).toFixed(0)} s`,
            ),
        });
  if (reused > 0) console.log(`reusing the ${count(reused)} events in ${scratch}`);
  // Traffic keeps arriving as on a live site: the sessions started since the last write, at the main chunks' rate,
  // are written after the generation (the minutes it took) and again before each run of reads, so that the
  // dashboard's "active in the last 5 minutes" always finds what a live site would show.
  let liveUntil = end;
  let nextSession = main.sessions;
  const catchUp = async () => {
    const spanMs = Date.now() - liveUntil;
    const due = Math.round((main.events * spanMs) / span);
    if (due < 1) return { events: 0, chunks: 0, seconds: 0, spanMs };
    const written = await generate(ch, { ...traffic, startMs: liveUntil, spanMs, daily: false }, due, {
      chunkEvents,
      firstSession: nextSession,
    });
    liveUntil += spanMs;
    nextSession += written.sessions;
    return { ...written, spanMs };
  };
  const tail = await catchUp();
  const sinceMs = tail.spanMs;
  const generateSeconds = main.seconds + tail.seconds;
  const stored = main.events + tail.events;
  console.log(
    `${count(stored)} events generated in ${generateSeconds.toFixed(1)} s ` +
      `(${count(Math.round(stored / generateSeconds))} rows/s, ${main.chunks + tail.chunks} INSERT … SELECT statements; ` +
      `${count(tail.events)} of them the ${(sinceMs / 60_000).toFixed(1)} minutes the generation took); ` +
      `migrations ${migrateSeconds.toFixed(1)} s`,
  );

  begun = performance.now();
  for (;;) {
    const [merging] = await ch.query<{ n: number }>(
      "SELECT count() AS n FROM system.merges WHERE database = 'tidemark'",
    );
    if (Number(merging?.n) === 0 || performance.now() - begun > 180_000) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const mergeSeconds = (performance.now() - begun) / 1000;
  if (args.optimize) await ch.command('OPTIMIZE TABLE tidemark.events FINAL');
  const [eventParts] = await ch.query<{ n: number }>(
    "SELECT count() AS n FROM system.parts WHERE database = 'tidemark' AND table = 'events' AND active",
  );

  const [shape] = await ch.query<Record<string, number>>(
    `SELECT count() AS events, uniqExact(anonymous_id) AS visitors, uniqExact(session_id) AS sessions,
            uniqExact(path) AS paths, countIf(type = 'page') AS pageviews, countIf(event = '$web_vital') AS vitals,
            countIf(type = 'track' AND NOT startsWith(event, '$')) AS custom, countIf(bot_reason != '') AS bots,
            countIf(utm_source != '') AS utm, min(timestamp) AS first, max(timestamp) AS last
     FROM tidemark.events`,
  );
  const share = (n: unknown) => `${((100 * Number(n)) / Number(shape?.events)).toFixed(1)} %`;
  console.log(
    `shape: ${count(Number(shape?.visitors))} visitors, ${count(Number(shape?.sessions))} sessions, ` +
      `${count(Number(shape?.paths))} paths; page views ${share(shape?.pageviews)}, Web Vitals ${share(shape?.vitals)}, ` +
      `custom events ${share(shape?.custom)}, bots ${share(shape?.bots)}, UTM-tagged ${share(shape?.utm)}; ` +
      `${shape?.first} to ${shape?.last} UTC`,
  );

  const parts = await ch.query<{ table: string; parts: number; rows: number; bytes: number }>(
    `SELECT table, count() AS parts, sum(rows) AS rows, sum(bytes_on_disk) AS bytes
     FROM system.parts WHERE database = 'tidemark' AND active GROUP BY table ORDER BY bytes DESC`,
  );
  const eventsBytes = Number(parts.find((p) => p.table === 'events')?.bytes ?? 0);
  const totalBytes = parts.reduce((sum, p) => sum + Number(p.bytes), 0);
  console.log(`merges settled in ${mergeSeconds.toFixed(0)} s; on disk (active parts of tidemark.*):`);
  for (const p of parts)
    console.log(
      `  ${p.table.padEnd(24)} ${String(p.parts).padStart(4)} parts ${count(Number(p.rows)).padStart(12)} rows ` +
        `${(Number(p.bytes) / 1e6).toFixed(1).padStart(9)} MB`,
    );
  const perEvent = { events: eventsBytes / stored, total: totalBytes / stored };
  console.log(
    `storage per event: ${perEvent.events.toFixed(1)} B in tidemark.events, ${perEvent.total.toFixed(1)} B with the ` +
      `rollups; 100M events would take about ${((perEvent.total * 1e8) / 1e9).toFixed(1)} GB ` +
      `(${((perEvent.events * 1e8) / 1e9).toFixed(1)} GB of raw events), extrapolated linearly`,
  );

  // --- the reads ------------------------------------------------------------------------------------------------
  const times = new Map<string, number[]>();
  const cpuTimes = new Map<string, number[]>();
  const note = (name: string, { wall, cpu }: { wall: number; cpu: number }) => {
    times.set(name, [...(times.get(name) ?? []), wall]);
    cpuTimes.set(name, [...(cpuTimes.get(name) ?? []), cpu]);
  };
  // The machine may be shared: the load beside the figures says how much of it these reads had.
  const loadBefore = loadavg();
  const answers = new Map<string, unknown[]>();
  const readsBegun = performance.now();
  let live = 0;
  for (let run = 0; run < runs; run++) {
    live += (await catchUp()).events;
    for (const name of queryNames) {
      const params = paramsFor(project, '30d');
      let rows: unknown[] = [];
      note(
        name,
        await timed(async () => {
          rows = await runQueryNamed(name, params);
        }),
      );
      answers.set(name, rows);
    }
    const { project: p, from, to } = paramsFor(project, '30d').overview;
    note('property_breakdown', await timed(() => ch.query(propertyBreakdown, { project: p, from, to })));
    for (const range of Object.keys(ranges) as Range[]) {
      note(
        `refresh_${range}`,
        await timed(async () => {
          const params = paramsFor(project, range);
          for (const panel of panels) await runQueryNamed(panel, params);
        }),
      );
    }
    // A session filter: every panel reads the kept sessions' rows of the rollups that keep the session (041).
    note(
      'refresh_30d_filtered',
      await timed(async () => {
        const params = paramsFor(project, '30d', benchFilter);
        for (const panel of panels) await runQueryNamed(panel, params);
      }),
    );
    console.log(
      `  reads, run ${run + 1} of ${runs}: ${((performance.now() - readsBegun) / 1000).toFixed(0)} s; ` +
        `${count(live)} live events written before the runs so far`,
    );
  }
  const loadAfter = loadavg();
  const overview = answers.get('overview')?.[0] as Record<string, number> | undefined;
  const active = answers.get('active_visitors')?.[0] as Record<string, number> | undefined;
  console.log(
    `answers (30 days): ${count(Number(overview?.visitors))} visitors, ${count(Number(overview?.pageviews))} page views, ` +
      `${count(Number(overview?.sessions))} sessions, bounce rate ${(100 * Number(overview?.bounce_rate)).toFixed(1)} %; ` +
      `funnel ${(answers.get('funnel') as { visitors: number }[]).map((r) => count(Number(r.visitors))).join(' → ')}; ` +
      `${count(Number(active?.visitors))} active in the last 5 minutes`,
  );

  // --- the table ------------------------------------------------------------------------------------------------
  const atScale = stored >= goals.atEvents;
  const verdict10M = (value: number, goal: number) =>
    atScale ? (value <= goal ? 'met' : 'MISSED') : `n/a (goal at ${count(goals.atEvents)})`;
  const verdict100M = (value: number, goal: number) =>
    value > goal ? `MISSED (over already at ${count(stored)})` : 'not measured (needs 100M)';
  type Row = {
    label: string;
    key: string;
    p50: number;
    max: number;
    cpu: number;
    goal: string;
    verdict: string;
  };
  const rows: Row[] = [];
  const cpuOf = (key: string) => stats(cpuTimes.get(key) ?? []).p50;
  for (const name of [...queryNames, 'property_breakdown']) {
    const { p50, max } = stats(times.get(name) ?? []);
    const panel = (panels as readonly string[]).includes(name);
    const raw = rawQueries.includes(name);
    rows.push({
      label: `${name}${panel ? ' (panel)' : ''}`,
      key: name,
      p50,
      max,
      cpu: cpuOf(name),
      goal: panel
        ? `≤ ${goals.panelMs} ms at 10M, ≤ ${goals.panelMs100M} ms at 100M`
        : raw
          ? `≤ ${goals.rawMs} ms at 10M (raw events)`
          : '',
      verdict: panel
        ? `${verdict10M(p50, goals.panelMs)}; ${verdict100M(p50, goals.panelMs100M)}`
        : raw
          ? verdict10M(p50, goals.rawMs)
          : '—',
    });
  }
  for (const range of Object.keys(ranges) as Range[]) {
    const { p50, max } = stats(times.get(`refresh_${range}`) ?? []);
    rows.push({
      label: `dashboard refresh, ${range}`,
      key: `refresh_${range}`,
      p50,
      max,
      cpu: cpuOf(`refresh_${range}`),
      goal: `≤ ${goals.refreshMs100M} ms at 100M`,
      verdict: verdict100M(p50, goals.refreshMs100M),
    });
  }
  {
    const { p50, max } = stats(times.get('refresh_30d_filtered') ?? []);
    rows.push({
      label: `dashboard refresh, 30d, filter ${benchFilter} (session rollups)`,
      key: 'refresh_30d_filtered',
      p50,
      max,
      cpu: cpuOf('refresh_30d_filtered'),
      goal: '',
      verdict: '—',
    });
  }
  const width = Math.max(...rows.map((r) => r.label.length));
  console.log(
    `\nreads over ${count(stored + live)} events in ${eventParts?.n} parts${args.optimize ? ' (optimized)' : ''} (and the live ` +
      `events' own), range 30 days (refreshes: their own range), ${runs} runs each, ms; ` +
      `load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after ` +
      `on ${availableParallelism()} cores\n` +
      `${'query'.padEnd(width)}  ${'p50'.padStart(7)}  ${'max'.padStart(7)}  ${'cpu p50'.padStart(7)}  goal → verdict (judged on p50)`,
  );
  for (const r of rows)
    console.log(
      `${r.label.padEnd(width)}  ${ms(r.p50).padStart(7)}  ${ms(r.max).padStart(7)}  ${ms(r.cpu).padStart(7)}  ` +
        `${r.goal ? `${r.goal} → ${r.verdict}` : ''}`,
    );

  const shapeNote =
    `${stored} events, ${visitors} visitors, 30 days, ${eventParts?.n} parts${args.optimize ? ' (optimized)' : ''}; ` +
    `p50 of ${runs} runs`;
  // Goals only where this run can judge them: the 10M ones at 10M events or more.
  const goalOf = (key: string) =>
    !atScale
      ? undefined
      : (panels as readonly string[]).includes(key)
        ? goals.panelMs
        : rawQueries.includes(key)
          ? goals.rawMs
          : undefined;
  const figures: Figure[] = rows.map((r) => {
    const goal = goalOf(r.key);
    return {
      key: `read.${r.key.replace(/^refresh_/, 'refresh.')}.p50_ms`,
      label:
        r.key === 'refresh_30d_filtered'
          ? `dashboard refresh, ${panels.length} panels in turn, 30d range, filter ${benchFilter}, p50`
          : r.key.startsWith('refresh_')
            ? `dashboard refresh, ${panels.length} panels in turn, ${r.key.slice(8)} range, p50`
            : `${r.key.replaceAll('_', ' ')}${r.label.endsWith('(panel)') ? ' (dashboard panel)' : ''}, ` +
              `${r.key === 'active_visitors' ? 'last 5 minutes' : '30 days'}, p50`,
      value: Math.round(r.p50 * 10) / 10,
      unit: 'ms',
      ...(goal === undefined ? {} : { goal: { op: '<=' as const, value: goal } }),
      note: `${shapeNote}; max ${ms(r.max)} ms, CPU p50 ${ms(r.cpu)} ms; load ${loadBefore[0]?.toFixed(1)}`,
    };
  });
  figures.push(
    {
      key: 'read.storage.events_bytes_per_event',
      label: 'tidemark.events on disk per event',
      value: Number(perEvent.events.toFixed(1)),
      unit: 'B',
      note: `${(eventsBytes / 1e6).toFixed(1)} MB for ${stored} events; active parts after merges`,
    },
    {
      key: 'read.storage.total_bytes_per_event',
      label: 'tidemark.* on disk per event, rollups included',
      value: Number(perEvent.total.toFixed(1)),
      unit: 'B',
      note: `${(totalBytes / 1e6).toFixed(1)} MB; 100M events ≈ ${((perEvent.total * 1e8) / 1e9).toFixed(1)} GB, linearly`,
    },
    {
      key: 'read.generate.seconds',
      label: 'generating the events (INSERT … SELECT, rollups fed)',
      value: Number(generateSeconds.toFixed(1)),
      unit: 's',
      note: `${stored} events, ${count(Math.round(stored / generateSeconds))} rows/s; merges settled ${mergeSeconds.toFixed(0)} s later`,
    },
  );
  report('read.ts', figures);
} finally {
  await ch.close();
  if (args.data === undefined) await rm(scratch, { recursive: true, force: true });
}
