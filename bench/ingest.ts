// Embedded-mode ingest: how many events per second one gateway process takes in through POST /v1/batch and
// commits to chDB, and the request latency it takes, with a few clients posting batches concurrently.
//   npx tsx bench/ingest.ts [batches=200] [eventsPerBatch=50] [concurrency=4]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, startGateway } from '@tidemark/gateway';
import { uuidv7 } from 'uuidv7';
import { report } from './report.js';

const [batches = 200, perBatch = 50, concurrency = 4] = process.argv.slice(2).map(Number);
const chdbPath = await mkdtemp(join(tmpdir(), 'tidemark-bench-'));
const gateway = await startGateway(
  loadConfig({
    TIDEMARK_MODE: 'embedded',
    TIDEMARK_PORT: '0',
    TIDEMARK_CHDB_PATH: chdbPath,
    TIDEMARK_WRITE_KEYS: 'bench-key:bench',
    TIDEMARK_LOG_LEVEL: 'warn',
  }),
);
const userAgent =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function body(): string {
  const now = new Date().toISOString();
  const batch = Array.from({ length: perBatch }, (_, i) => ({
    type: 'track',
    event: 'Product Added',
    messageId: uuidv7(),
    anonymousId: `visitor-${i % 17}`,
    timestamp: now,
    properties: { product: 'kayak', price: 899, i },
    context: {
      userAgent,
      page: {
        url: 'https://shop.example/p/kayak?utm_source=bench',
        path: '/p/kayak',
        referrer: '',
        title: 'Kayak',
      },
    },
  }));
  return JSON.stringify({ writeKey: 'bench-key', sentAt: now, batch });
}

const latencies: number[] = [];
let next = 0;
async function client(): Promise<void> {
  while (next < batches) {
    next += 1;
    const started = performance.now();
    const response = await fetch(`${gateway.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: body(),
    });
    if (response.status !== 200)
      throw new Error(`gateway answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, client));
const seconds = (performance.now() - started) / 1000;
const clickhouse = gateway.clickhouse;
if (!clickhouse) throw new Error('embedded mode started without its ClickHouse client');
const [stored] = await clickhouse.query<{ n: string }>('SELECT count() AS n FROM tidemark.events');
await gateway.close();
await rm(chdbPath, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
console.log(
  `embedded ingest: ${batches} batches × ${perBatch} events, ${concurrency} concurrent clients\n` +
    `  ${Math.round((batches * perBatch) / seconds)} events/s, ${(batches / seconds).toFixed(1)} requests/s\n` +
    `  request latency p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms\n` +
    `  rows stored: ${stored?.n} of ${batches * perBatch} sent`,
);
if (Number(stored?.n) !== batches * perBatch) process.exitCode = 1;
const shape = `${batches} batches × ${perBatch} events, ${concurrency} clients`;
report('ingest.ts', [
  {
    key: 'ingest.embedded.events_per_s',
    label: 'embedded ingest, POST /v1/batch → chDB → 200',
    value: Math.round((batches * perBatch) / seconds),
    unit: 'events/s',
    note: `${shape}; ${stored?.n} of ${batches * perBatch} stored`,
  },
  {
    key: 'ingest.embedded.latency_p99_ms',
    label: 'embedded ingest, request latency p99',
    value: Number(pct(99).toFixed(1)),
    unit: 'ms',
    note: `p50 ${pct(50).toFixed(1)} ms; ${shape}`,
  },
]);
