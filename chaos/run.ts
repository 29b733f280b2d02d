// `pnpm chaos [--short] [--cluster] [--only name,…]`: every chaos scenario, one after another, in one table.
// `--cluster` runs the scenarios on a three-node Kafka cluster (chaos/scenarios/cluster-faults.ts) instead of the
// single-broker ones; a cluster run writes chaos/results/cluster.json and cluster.md. A full run of
// all of them writes chaos/results/latest.json and latest.md (the README's table comes from there); a short or
// partial run writes to a temporary directory, so it never overwrites the figures of a full one. Exits 1 when any scenario lost,
// doubled or miscounted an event, answered a hostile request wrongly, failed one of its own checks, or crashed.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startKafka } from '../scripts/kafka.mjs';
import type { ChaosResult, DeliveryResult, HostileResult, Scenario, ScenarioOptions } from './report.js';
import {
  clusterGatewayKill,
  clusterLeaderFreeze,
  clusterLeaderKill,
  clusterLeaderRebalance,
  clusterMinIsrUnmet,
  clusterRollingRestart,
  clusterSinksKill,
  clusterTwoDown,
} from './scenarios/cluster-faults.js';
import { erasure } from './scenarios/erasure.js';
import {
  brokerFreeze,
  brokerRestart,
  clickhouseOutage,
  gatewayKills,
  sinkKills,
  soak,
} from './scenarios/process-faults.js';

type AnyScenario = Scenario<DeliveryResult> | Scenario<HostileResult>;

/** A scenario by name, with where it comes from: the modules of other issues may not exist yet. */
interface Entry {
  name: string;
  kind: 'delivery' | 'hostile';
  /** Runs on a Kafka cluster of its own: chosen by `--cluster`, and needs no shared broker. */
  cluster?: boolean;
  load: () => Promise<AnyScenario | undefined>;
}

/** Imports `export` of a scenario module, or undefined when the module (or the export) is not there. */
async function optional(module: string, name: string): Promise<AnyScenario | undefined> {
  try {
    const loaded = (await import(module)) as Record<string, unknown>;
    return typeof loaded[name] === 'function' ? (loaded[name] as AnyScenario) : undefined;
  } catch (error) {
    // Missing only when the module itself is not there; one that exists but imports something missing is a
    // crash to show.
    const { code, message } = error as { code?: string; message?: string };
    const modulePath = module.replace(/^\.\//, '').replace(/\.js$/, '');
    if (code === 'ERR_MODULE_NOT_FOUND' && message?.includes(modulePath)) return undefined;
    throw error;
  }
}

const own = (name: string, scenario: Scenario<DeliveryResult>): Entry => ({
  name,
  kind: 'delivery',
  load: async () => scenario,
});
export const scenarios: Entry[] = [
  own('gatewayKills', gatewayKills),
  own('sinkKills', sinkKills),
  own('brokerRestart', brokerRestart),
  own('brokerFreeze', brokerFreeze),
  own('clickhouseOutage', clickhouseOutage),
  own('soak', soak),
  {
    name: 'browserOffline',
    kind: 'delivery',
    load: () => optional('./scenarios/browser-offline.js', 'browserOffline'),
  },
  { name: 'hostile', kind: 'hostile', load: () => optional('./scenarios/hostile.js', 'hostile') },
  own('erasure', erasure),
  ...(
    [
      ['clusterLeaderKill', clusterLeaderKill],
      ['clusterTwoDown', clusterTwoDown],
      ['clusterMinIsrUnmet', clusterMinIsrUnmet],
      ['clusterRollingRestart', clusterRollingRestart],
      ['clusterLeaderFreeze', clusterLeaderFreeze],
      ['clusterLeaderRebalance', clusterLeaderRebalance],
      ['clusterGatewayKill', clusterGatewayKill],
      ['clusterSinksKill', clusterSinksKill],
    ] as const
  ).map(([name, scenario]): Entry => ({ ...own(name, scenario), cluster: true })),
];

/** One line of the table: a result, or why there is none. */
export type Row = { name: string } & (
  | { status: 'done'; result: ChaosResult }
  | { status: 'missing' }
  | { status: 'error'; error: string }
);

/** What is wrong with a result; empty when it passed. */
export function problemsOf(row: Row): string[] {
  if (row.status === 'missing') return [];
  if (row.status === 'error') return [`crashed: ${row.error}`];
  const r = row.result;
  if (r.kind === 'hostile') {
    const problems = [];
    if (r.wrong > 0) problems.push(`${r.wrong} wrong answers`);
    if (!r.survived) problems.push('the gateway did not survive');
    if (r.validStored !== r.validSent)
      problems.push(`${r.validSent - r.validStored} valid events not stored`);
    if (r.unexpectedStored > 0) problems.push(`${r.unexpectedStored} unexpected rows stored`);
    return problems;
  }
  const problems = [...(r.failed ?? [])];
  if (r.sent === 0) problems.push('nothing sent');
  if (r.lost > 0) problems.push(`${r.lost} lost`);
  if (r.doubled > 0) problems.push(`${r.doubled} doubled`);
  if ((r.rawDuplicates ?? 0) > 0) problems.push(`${r.rawDuplicates} copies without FINAL`);
  if ((r.renumbered ?? 0) > 0) problems.push(`${r.renumbered} visitor numbering faults`);
  if (r.stored !== r.sent) problems.push(`stored ${r.stored} ≠ sent ${r.sent}`);
  if (r.counted !== r.sent) problems.push(`overview counts ${r.counted} ≠ sent ${r.sent}`);
  return problems;
}

const secs = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);

/** The table, as Markdown (also readable as plain text in a terminal). */
export function table(rows: Row[]): string {
  const head = [
    'scenario',
    'faults',
    'sent',
    'stored',
    'lost',
    'doubled',
    'counted',
    'recovery',
    'hostile requests',
    'wrong answers',
    'survived',
    'duration',
    'result',
  ];
  const lines = [head, head.map(() => '---')];
  for (const row of rows) {
    const problems = problemsOf(row);
    const verdict = problems.length ? `FAILED: ${problems.join('; ')}` : 'ok';
    if (row.status !== 'done') {
      const what = row.status === 'missing' ? 'missing' : `FAILED: ${row.error}`;
      lines.push([row.name, ...head.slice(1, -1).map(() => '–'), what]);
      continue;
    }
    const r = row.result;
    if (r.kind === 'hostile') {
      lines.push([
        r.scenario,
        '–',
        `${r.validSent} valid`,
        String(r.validStored),
        String(r.validSent - r.validStored),
        String(r.unexpectedStored),
        '–',
        '–',
        String(r.total),
        String(r.wrong),
        r.survived ? `yes${r.rssMb === undefined ? '' : ` (${Math.round(r.rssMb)} MB)`}` : 'no',
        secs(r.durationMs),
        verdict,
      ]);
    } else {
      lines.push([
        r.scenario,
        String(r.faults),
        String(r.sent),
        String(r.stored),
        String(r.lost),
        String(r.doubled),
        String(r.counted),
        secs(r.recoveryMs),
        '–',
        '–',
        '–',
        secs(r.durationMs),
        verdict,
      ]);
    }
  }
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const short = values.short ?? false;
  const cluster = values.cluster ?? false;
  const only = values.only?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !scenarios.some((s) => s.name === name)) ?? [];
  if (unknown.length) {
    console.error(
      `unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`,
    );
    process.exitCode = 2;
    return;
  }
  const chosen = scenarios.filter((s) => (only ? only.includes(s.name) : (s.cluster ?? false) === cluster));
  const log = (line: string) => console.log(`  ${line}`);

  // One broker for the scenarios that only need a broker to be there; those that stop or freeze a broker start
  // their own. KAFKA_BROKERS names an external one instead.
  const external = process.env.KAFKA_BROKERS?.trim();
  let brokers = external ? external.split(',').map((b) => b.trim()) : undefined;
  let stopBroker: (() => Promise<void>) | undefined;
  let brokerDir: string | undefined;
  if (!brokers && chosen.some((s) => !s.cluster)) {
    brokerDir = await mkdtemp(join(tmpdir(), 'tidemark-chaos-kafka-'));
    const kafka = await startKafka({ port: 0, dataDir: brokerDir, log });
    brokers = kafka.brokers;
    stopBroker = kafka.stop;
  }

  const started = new Date();
  const rows: Row[] = [];
  try {
    for (const entry of chosen) {
      let scenario: AnyScenario | undefined;
      try {
        scenario = await entry.load();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        console.log(`${entry.name}: could not be loaded: ${message}`);
        rows.push({ name: entry.name, status: 'error', error: `not loadable: ${message.split('\n')[0]}` });
        continue;
      }
      if (!scenario) {
        console.log(`${entry.name}: missing`);
        rows.push({ name: entry.name, status: 'missing' });
        continue;
      }
      console.log(`${entry.name}${short ? ' (short)' : ''}…`);
      const options: ScenarioOptions = { ...(brokers ? { brokers } : {}), short, log };
      try {
        const result = await scenario(options);
        const chaos = (
          entry.kind === 'hostile' ? { kind: 'hostile', ...result } : { kind: 'delivery', ...result }
        ) as ChaosResult;
        rows.push({ name: entry.name, status: 'done', result: chaos });
        const problems = problemsOf(rows.at(-1) as Row);
        console.log(`${entry.name}: ${problems.length ? `FAILED: ${problems.join('; ')}` : 'ok'}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        console.log(`${entry.name}: crashed: ${message}`);
        rows.push({ name: entry.name, status: 'error', error: message.split('\n')[0] ?? message });
      }
    }
  } finally {
    await stopBroker?.();
    if (brokerDir) await rm(brokerDir, { recursive: true, force: true });
  }

  const markdown = table(rows);
  console.log(`\n${markdown}\n`);
  // Only a full run of everything replaces chaos/results: the README's table must come from one run.
  const outDir =
    short || only
      ? await mkdtemp(join(tmpdir(), 'tidemark-chaos-partial-'))
      : fileURLToPath(new URL('./results/', import.meta.url));
  await mkdir(outDir, { recursive: true });
  const command = `pnpm chaos${short ? ' --short' : ''}${cluster ? ' --cluster' : ''}${only ? ` --only ${only.join(',')}` : ''}`;
  const report = {
    command,
    commit: commit(),
    started: started.toISOString(),
    finished: new Date().toISOString(),
    short,
    rows,
  };
  const base = cluster && !only ? 'cluster' : 'latest';
  await writeFile(join(outDir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const notes = rows.flatMap((row) =>
    row.status === 'done' ? [`- ${row.result.scenario}: ${row.result.notes.join('; ')}`] : [],
  );
  await writeFile(
    join(outDir, `${base}.md`),
    `\`${command}\` at ${report.commit}, ${report.started} → ${report.finished}\n\n${markdown}\n\n${notes.join('\n')}\n`,
  );
  console.log(`written: ${join(outDir, `${base}.json`)} and ${base}.md`);
  if (rows.some((row) => problemsOf(row).length > 0)) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
