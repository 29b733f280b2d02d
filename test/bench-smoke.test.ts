import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';

// Every benchmark of bench/, run briefly so that none rots unnoticed: each must run to its end, exit 0 (the
// benchmarks exit 1 only when they find events lost or doubled, never on a slow machine) and print the figures
// it exists for. The figures themselves are not judged here: a few seconds on a shared machine measure nothing.
const root = join(import.meta.dirname, '..');

function runBench(file: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', file), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

it('runs the embedded ingest benchmark and stores every event it sent', async () => {
  const { code, output } = await runBench('ingest.ts', ['10', '10', '2']);
  expect(code, output).toBe(0);
  expect(output).toMatch(/[\d,]+ events\/s/);
  expect(output).toContain('rows stored: 100 of 100 sent');
}, 120_000);

it('runs the schema benchmark and prints the size of every column', async () => {
  const { code, output } = await runBench('schema.ts', ['2000']);
  expect(code, output).toBe(0);
  expect(output).toMatch(/2,000 events, inserted at [\d,]+ rows\/s/);
  expect(output).toContain('event_id');
}, 120_000);

it('runs the track() benchmark in Chromium and judges both goals', async () => {
  const { code, output } = await runBench('sdk-track.ts', ['1000']);
  expect(code, output).toBe(0);
  expect(output).toMatch(/goal median ≤ 5 µs: +(met|MISSED)/);
  expect(output).toMatch(/goal no task over 50 ms: (met|MISSED)/);
}, 120_000);

it('runs the sink benchmark against the test broker and stores every event once', async () => {
  const { code, output } = await runBench('sink.ts', ['2000', '2', '1'], {
    KAFKA_BROKERS: inject('kafkaBrokers').join(','),
  });
  expect(code, output).toBe(0);
  expect(output).toMatch(/stored: 2000 rows, 2000 distinct event_id/);
  expect(output).toMatch(/median ratio sink \/ raw over 1 rounds: [\d.]+/);
}, 180_000);

it('runs the gateway benchmark against the test broker, and the topic holds what the gateway accepted', async () => {
  const { code, output } = await runBench('gateway.ts', ['2', '4'], {
    KAFKA_BROKERS: inject('kafkaBrokers').join(','),
  });
  expect(code, output).toBe(0);
  expect(output).toMatch(/ratio gateway \/ ceiling events\/s: +[\d.]+/);
  expect(output).toMatch(/gateway RSS peak \d+ MB/);
  expect(output).toContain(': match');
}, 240_000);
