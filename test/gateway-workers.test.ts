import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { afterAll, expect, inject, it } from 'vitest';
import { kafkaClientEnv } from '../harness/kafkaClientEnv.js';
import { eventIdsOf, readTopic } from '../harness/offsets.js';
import { type Running, startGatewayProcess, stopProcess } from '../harness/processes.js';
import { freePort } from '../scripts/kafka.mjs';

// TIDEMARK_GATEWAY_WORKERS=2 on the real broker, the gateway started as its Docker image starts it: two worker
// processes share one port and both answer, /metrics and the live feed on that port cover the whole gateway, and
// SIGTERM to the primary closes both workers, each answering what it had taken in, and ends the process with 0.
const ADMIN_TOKEN = 'workers-admin-token-7d1c9e';
const brokers = inject('kafkaBrokers');
const topic = `tidemark.workers.${randomUUID().slice(0, 8)}`;
let gateway: (Running & { url: string }) | undefined;

afterAll(async () => {
  if (gateway) await stopProcess(gateway);
});

type Answer = { status: number; ids: string[] } | { error: string; ids: string[] };

/** One batch on a connection of its own: the primary hands each new connection to the next worker. */
function post(port: number, events: number): Promise<Answer> {
  const ids = Array.from({ length: events }, () => randomUUID());
  const body = JSON.stringify({
    writeKey: 'workers-key',
    batch: ids.map((messageId, i) => ({
      type: 'track',
      event: 'Worker Probe',
      messageId,
      anonymousId: `visitor-${i % 3}`,
    })),
  });
  return new Promise((resolve) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/batch',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, ids }));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? 'error', ids }));
    request.end(body);
  });
}

/** `tidemark_gateway_worker_requests_total` by worker pid, from the shared port's /metrics. */
async function answersByWorker(url: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = new Map<number, number>();
  for (const match of text.matchAll(/^tidemark_gateway_worker_requests_total\{worker="(\d+)"\} (\d+)$/gm)) {
    counts.set(Number(match[1]), Number(match[2]));
  }
  return counts;
}

function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

it('runs two workers on one port that both answer, and drains both on SIGTERM', async () => {
  const port = await freePort();
  gateway = await startGatewayProcess({
    env: {
      TIDEMARK_MODE: 'distributed',
      KAFKA_BROKERS: brokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      TIDEMARK_KAFKA_PARTITIONS: '3',
      TIDEMARK_WRITE_KEYS: 'workers-key:workers',
      TIDEMARK_LISTEN_HOST: '127.0.0.1',
      TIDEMARK_PORT: String(port),
      TIDEMARK_GATEWAY_WORKERS: '2',
      TIDEMARK_RATE_LIMIT_PER_IP: '0',
      TIDEMARK_LOG_LEVEL: 'info',
      // The live feed is behind the admin token, which distributed mode pairs with a read URL (never read here).
      TIDEMARK_ADMIN_TOKEN: ADMIN_TOKEN,
      TIDEMARK_READ_CLICKHOUSE_URL: 'http://127.0.0.1:9',
      ...(kafkaClientEnv.TIDEMARK_KAFKA_CLIENT
        ? { TIDEMARK_KAFKA_CLIENT: kafkaClientEnv.TIDEMARK_KAFKA_CLIENT }
        : {}),
    },
  });
  const primary = gateway.process.pid;
  const running = gateway;
  // /healthz answers once one worker listens; the other may still be connecting its producer.
  const deadline = Date.now() + 60_000;
  while ((running.output.match(/"msg":"tidemark gateway listening"/g)?.length ?? 0) < 2) {
    if (Date.now() > deadline)
      throw new Error(`two workers did not listen; the gateway printed:\n${running.output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  // A live feed held by one worker, while the batches below are spread over both.
  let feed = '';
  const live = http.get(
    {
      host: '127.0.0.1',
      port,
      path: '/v1/live',
      agent: false,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    },
    (response) => response.on('data', (chunk: Buffer) => (feed += chunk)),
  );
  while (!feed.includes(': connected')) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const liveEvents = () =>
    [...feed.matchAll(/^data: (.*)$/gm)].reduce(
      (sum, m) => sum + ((JSON.parse(m[1] ?? '{}') as { events?: unknown[] }).events?.length ?? 0),
      0,
    );

  // Both answer: 20 batches on 20 connections, counted by the worker that answered each.
  const first: Answer[] = [];
  for (let n = 0; n < 20; n += 1) first.push(await post(port, 5));
  expect(first.map((a) => ('status' in a ? a.status : a.error))).toEqual(Array(20).fill(200));
  const byWorker = await answersByWorker(gateway.url);
  expect(byWorker.size).toBe(2);
  expect([...byWorker.keys()]).not.toContain(primary);
  for (const count of byWorker.values()) expect(count).toBeGreaterThan(0);
  // The shared port's metrics are the whole gateway's, whichever worker serves them.
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  expect(metricSum(metrics, 'tidemark_gateway_events_accepted_total')).toBe(100);
  // And the feed showed every one of them, those the other worker accepted too.
  const until = Date.now() + 5_000;
  while (liveEvents() < 100 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(liveEvents()).toBe(100);
  live.destroy();

  // Drains: SIGTERM while 30 batches are on their way; every one answered 200 is in Kafka, the others were
  // refused (connection refused or reset, or 503), and the process ends with 0.
  const inFlight = Array.from({ length: 30 }, () => post(port, 5));
  await Promise.race(inFlight);
  gateway.process.kill('SIGTERM');
  const second = await Promise.all(inFlight);
  const code = await gateway.exited;
  expect(code).toBe(0);
  for (const answer of second) {
    if ('status' in answer) expect([200, 503]).toContain(answer.status);
    else expect(['ECONNREFUSED', 'ECONNRESET']).toContain(answer.error);
  }
  const closed = new Set(
    gateway.output
      .split('\n')
      .filter((line) => line.includes('"msg":"closing"'))
      .map((line) => (JSON.parse(line) as { pid: number }).pid),
  );
  expect(closed).toEqual(new Set(byWorker.keys()));

  const acknowledged = [...first, ...second].flatMap((a) => ('status' in a && a.status === 200 ? a.ids : []));
  expect(acknowledged.length).toBeGreaterThan(100);
  const messages = await readTopic(brokers, topic, (m) => eventIdsOf(m).length >= acknowledged.length);
  const stored = eventIdsOf(messages);
  // event_id is the messageId when it is a UUID, as here.
  expect(stored.filter((id) => acknowledged.includes(id)).sort()).toEqual([...acknowledged].sort());
});
