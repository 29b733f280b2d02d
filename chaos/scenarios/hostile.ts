import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { type Answer, type HttpCase, httpCase, httpKinds, type Target } from '../hostile/cases.js';
import { createRandom } from '../hostile/random.js';
import { type RawCase, type RawOutcome, rawCase, sendRaw, slowCase } from '../hostile/raw.js';
import { startHostileStack } from '../hostile/services.js';
import type { HostileResult, Scenario } from '../report.js';

/** Requests in the full run and in the short CI run. */
export const HOSTILE_REQUESTS = { full: 100_000, short: 20_000 } as const;

/** Share of the requests written on raw sockets (one connection each), and the slow clients held open. */
const RAW_SHARE = 0.02;
const SLOW_CLIENTS = { full: 40, short: 10 } as const;
/** Keep-alive connections the HTTP requests share. */
const CONCURRENCY = 16;
/** Wrong answers described in the notes, at most. */
const EXAMPLES = 8;

interface Answered {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request on a keep-alive agent; rejects only when no answer arrived (the connection failed). */
function send(agent: http.Agent, port: number, c: HttpCase): Promise<Answered> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, method: c.method, path: c.path, headers: c.headers, agent, timeout: 60_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 60 s')));
    request.on('error', reject);
    request.end(c.body);
  });
}

/** Whether an answer is one of those expected; undefined when right, else what is wrong. */
function judge(expect: Answer[], status: number, json: unknown, retryAfter: unknown): string | undefined {
  const body = json as { code?: unknown; message?: unknown } | undefined;
  // Shedding is always a right answer, as long as it says when to come back.
  if (status === 503 && body?.code === 'overloaded' && retryAfter !== undefined) return undefined;
  if (status >= 400 && (typeof body?.code !== 'string' || typeof body.message !== 'string')) {
    return `${status} without { code, message }`;
  }
  const match = expect.some((a) => a.status === status && (a.code === undefined || a.code === body?.code));
  if (match) return undefined;
  const wanted = expect.map((a) => `${a.status}${a.code ? ` ${a.code}` : ''}`).join(' | ');
  return `got ${status}${body?.code ? ` ${String(body.code)}` : ''}, expected ${wanted}`;
}

/** For a mixed batch: the answer accepted exactly the valid events and listed exactly the refused ones. */
function judgeBatch(c: HttpCase, json: unknown): string | undefined {
  const answer = json as { accepted?: number; rejected?: { index: number; reason: string }[] };
  const refused = c.refused ?? new Map<number, string>();
  const listed = new Map((answer.rejected ?? []).map((r) => [r.index, r.reason]));
  if (answer.accepted !== undefined && answer.accepted !== (c.validIds?.length ?? 0)) {
    return `accepted ${answer.accepted} of ${c.validIds?.length ?? 0} valid events`;
  }
  for (const [index, reason] of refused) {
    if (listed.get(index) !== reason)
      return `event ${index}: ${listed.get(index) ?? 'accepted'}, expected ${reason}`;
  }
  if (listed.size !== refused.size) return `${listed.size} events refused, expected ${refused.size}`;
  return undefined;
}

/** RSS of a process in MB, from /proc (Linux). */
function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Hostile input (issue 8): at least 100 000 generated requests (20 000 in the short run), seeded and reproducible,
 * against a gateway process in distributed mode with its read API on. Every answer must be the expected 4xx with
 * a `{ code, message }` (or a 503 when shedding); the valid events of mixed batches must all be stored, and
 * nothing else for the run's project; the process must stay up, its RSS watched throughout.
 *
 * `TIDEMARK_HOSTILE_SEED` picks another seed (default 8); the kinds and their shares are in chaos/hostile/cases.ts
 * (HTTP) and chaos/hostile/raw.ts (raw sockets and slow clients).
 */
export const hostile: Scenario<HostileResult> = async (options) => {
  const log = options.log ?? console.log;
  const version = options.short ? 'short' : 'full';
  // TIDEMARK_HOSTILE_REQUESTS: another count, for trying a change quickly; the CI test asserts the version's count.
  const total = Number(process.env.TIDEMARK_HOSTILE_REQUESTS ?? HOSTILE_REQUESTS[version]);
  const seed = Number(process.env.TIDEMARK_HOSTILE_SEED ?? 8);
  const id = randomUUID().slice(0, 8);
  const started = performance.now();
  const stack = await startHostileStack(options.brokers, id, log);
  const notes: string[] = [`seed: ${seed}`];
  try {
    const { gatewayPort: port, gateway } = stack;
    const target: Target = { ...stack, maxEvents: 12 };
    const random = createRandom(seed);
    let nextId = 0;
    // UUIDs (so they are kept as event ids), unique in the run, repeatable with the seed.
    const prefix = createRandom(seed ^ 0x5eed)
      .uuid()
      .slice(0, 23);
    const ids = () => `${prefix}-${(nextId++).toString(16).padStart(12, '0')}`;

    const requests: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    const examples: string[] = [];
    let wrong = 0;
    const acked = new Set<string>();
    // Valid events whose request got no answer or a 5xx: they may or may not be stored, so neither count.
    const uncertain = new Set<string>();
    const count = (kind: string, status: number | string, problem: string | undefined, detail: string) => {
      requests[kind] = (requests[kind] ?? 0) + 1;
      statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
      if (problem === undefined) return;
      wrong += 1;
      if (examples.length < EXAMPLES) {
        examples.push(`${kind}: ${problem} (${detail})`);
        log(`hostile: wrong answer: ${examples.at(-1)}`);
      }
    };

    // Liveness and memory, every second, for the whole run.
    let maxRss = 0;
    let maxHealthMs = 0;
    let healthFailures = 0;
    const watch = setInterval(() => {
      maxRss = Math.max(maxRss, rssMb(gateway.process.pid) ?? 0);
      const t = performance.now();
      fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) })
        .then((response) => {
          if (!response.ok) healthFailures += 1;
          maxHealthMs = Math.max(maxHealthMs, performance.now() - t);
        })
        .catch(() => {
          healthFailures += 1;
        });
    }, 1_000);

    const judgeRaw = (c: RawCase, outcome: RawOutcome): string | undefined => {
      if (outcome.answers.length === 0) {
        return c.silentCloseIsRight
          ? undefined
          : `closed after ${Math.round(outcome.ms)} ms without an answer`;
      }
      if (outcome.garbage.trim() !== '')
        return `unparseable bytes after the answers: ${outcome.garbage.slice(0, 60)}`;
      for (const answer of outcome.answers) {
        const problem = judge(
          c.expect,
          answer.status,
          answer.json,
          /retry-after/i.test(answer.headers) ? 1 : undefined,
        );
        if (problem) return problem;
      }
      return undefined;
    };
    const runRaw = async (c: RawCase, timeoutMs: number) => {
      const outcome = await sendRaw(port, c, timeoutMs);
      const status = outcome.answers.map((a) => a.status).join('+') || 'closed';
      count(c.kind, status, judgeRaw(c, outcome), `${Math.round(outcome.ms)} ms, ${c.bytes.length} bytes`);
      return outcome;
    };

    // Slow clients, opened first and held while everything else runs: each must be cut off with a 408 in time
    // (headers: 10 s; the whole request: 30 s; Node checks every second), while the others are served.
    const slowRandom = createRandom(seed + 1);
    const slow = Array.from({ length: SLOW_CLIENTS[version] }, (_, i) => {
      const c = slowCase(slowRandom, target, i % 2 === 0 ? 'headers' : 'body');
      return runRaw(c, 60_000).then((outcome) => ({ kind: c.kind, ms: outcome.ms }));
    });

    // Queries that run into the time limit: a few, since each holds the one chDB session for seconds.
    const heavy = Array.from({ length: options.short ? 1 : 2 }, async () => {
      const c: HttpCase = {
        kind: 'sql-heavy',
        method: 'POST',
        path: '/v1/sql',
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'text/plain' },
        body: Buffer.from('SELECT count() FROM numbers(1000000000000) WHERE sipHash64(number) = 0'),
        expect: [{ status: 504, code: 'query_timeout' }],
      };
      const answer = await send(new http.Agent(), port, c);
      count(
        c.kind,
        answer.status,
        judge(c.expect, answer.status, JSON.parse(answer.text), undefined),
        'numbers(1e12)',
      );
    });

    // The flood: kinds drawn by weight, HTTP on shared keep-alive connections, raw cases on their own sockets.
    const kinds = Object.entries(httpKinds) as [keyof typeof httpKinds, number][];
    const weightSum = kinds.reduce((sum, [, w]) => sum + w, 0);
    const draw = (): keyof typeof httpKinds => {
      let x = random.next() * weightSum;
      for (const [kind, w] of kinds) {
        x -= w;
        if (x < 0) return kind;
      }
      return 'mixed-batch';
    };
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const flood = total - slow.length - heavy.length;
    let issued = 0;
    let lastLog = performance.now();
    const worker = async () => {
      while (issued < flood) {
        issued += 1;
        if (performance.now() - lastLog > 10_000) {
          lastLog = performance.now();
          log(
            `hostile: ${issued} / ${flood} requests, wrong so far ${wrong}, RSS ${maxRss.toFixed(0)} MB max`,
          );
        }
        if (random.chance(RAW_SHARE)) {
          await runRaw(rawCase(random, target), 15_000);
          continue;
        }
        const c = httpCase(draw(), random, target, ids);
        let answer: Answered;
        try {
          answer = await send(agent, port, c);
        } catch (error) {
          for (const eventId of c.validIds ?? []) uncertain.add(eventId);
          count(
            c.kind,
            'no answer',
            `no answer: ${(error as Error).message}`,
            `${c.method} ${c.path.slice(0, 60)}`,
          );
          continue;
        }
        let json: unknown;
        try {
          json = JSON.parse(answer.text);
        } catch {
          json = undefined;
        }
        let problem = judge(c.expect, answer.status, json, answer.headers['retry-after']);
        if (!problem && answer.status < 300) {
          problem =
            (c.refused ? judgeBatch(c, json) : undefined) ?? c.check?.({ json, headers: answer.headers });
        } else if (!problem && c.check && answer.status !== 503) {
          problem = c.check({ json, headers: answer.headers });
        }
        if (answer.status === 200) for (const eventId of c.validIds ?? []) acked.add(eventId);
        else if (answer.status >= 500) for (const eventId of c.validIds ?? []) uncertain.add(eventId);
        const detail = `${c.method} ${c.path.slice(0, 60)} ${c.headers['content-type'] ?? ''} ${c.body?.length ?? 0} bytes: ${answer.text.slice(0, 160)}`;
        count(c.kind, answer.status, problem, detail);
      }
    };
    const floodStarted = performance.now();
    await Promise.all([...Array.from({ length: CONCURRENCY }, worker), ...heavy]);
    const floodMs = performance.now() - floodStarted;
    const slowResults = await Promise.all(slow);
    agent.destroy();
    clearInterval(watch);
    for (const part of ['slow-headers', 'slow-body']) {
      const times = slowResults.filter((r) => r.kind === part).map((r) => r.ms);
      if (times.length > 0) {
        notes.push(
          `${part}: cut off after ${(Math.min(...times) / 1000).toFixed(1)}–${(Math.max(...times) / 1000).toFixed(1)} s (${times.length} clients)`,
        );
      }
    }

    // Everything acknowledged reaches the store through Kafka and the sink; then nothing else may be there.
    const storedIds = async () => {
      const result = await stack.clickhouse.read(
        'SELECT toString(event_id) FROM tidemark.events FINAL WHERE project_id = {p:String}',
        { params: { p: stack.projectId } },
      );
      return new Set(result.rows.map((row) => String(row[0])));
    };
    let stored = new Set<string>();
    const deadline = Date.now() + 90_000;
    let last = -1;
    while (Date.now() < deadline) {
      stored = await storedIds();
      const missing = [...acked].filter((eventId) => !stored.has(eventId)).length;
      if (missing === 0 && stored.size === last) break;
      last = stored.size;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const validStored = [...acked].filter((eventId) => stored.has(eventId)).length;
    const unexpected = [...stored].filter((eventId) => !acked.has(eventId) && !uncertain.has(eventId));
    const rowCount = await stack.clickhouse.read(
      'SELECT count() FROM tidemark.events WHERE project_id = {p:String}',
      { params: { p: stack.projectId } },
    );
    const quarantined = await stack.clickhouse.read('SELECT count() FROM tidemark.events_quarantine');

    const health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    const survived =
      gateway.process.exitCode === null && gateway.process.signalCode === null && health?.ok === true;
    const rssEnd = rssMb(gateway.process.pid);
    // Secrets and addresses must not reach the gateway's log (it logs at warn here; gateway-logs.test.ts at trace).
    const leaked = [stack.adminToken, stack.writeKey, stack.limitedKey].filter((secret) =>
      gateway.output.includes(secret),
    );

    const total_ = Object.values(requests).reduce((a, b) => a + b, 0);
    notes.push(
      `requests: ${total_} in ${(floodMs / 1000).toFixed(1)} s of flood (${Math.round(total_ / (floodMs / 1000))}/s), ${CONCURRENCY} keep-alive connections`,
      `gateway RSS: max ${maxRss.toFixed(0)} MB, at the end ${rssEnd?.toFixed(0) ?? '?'} MB; /healthz slowest ${Math.round(maxHealthMs)} ms, failed ${healthFailures}×`,
      `store: ${stored.size} distinct ids, ${rowCount.rows[0]?.[0]} rows before FINAL for the run's project; ${quarantined.rows[0]?.[0]} rows quarantined; ${uncertain.size} valid events without a clear answer`,
      `secrets in the gateway's log: ${leaked.length === 0 ? 'none' : leaked.length}; its log had ${gateway.output.split('\n').length - 1} lines`,
      ...examples.map((e) => `wrong: ${e}`),
    );
    if (unexpected.length > 0) notes.push(`unexpected ids (first 5): ${unexpected.slice(0, 5).join(', ')}`);
    if (validStored < acked.size) {
      notes.push(`sink's last lines: ${stack.sink.output.split('\n').slice(-6).join(' | ').slice(0, 2000)}`);
    }
    return {
      scenario: `hostile input ×${total_}`,
      requests,
      total: total_,
      statuses,
      wrong: wrong + leaked.length,
      validSent: acked.size,
      validStored,
      unexpectedStored: unexpected.length,
      survived,
      ...(rssEnd === undefined ? {} : { rssMb: Math.round(rssEnd) }),
      durationMs: Math.round(performance.now() - started),
      notes,
    };
  } finally {
    await stack.stop();
  }
};
