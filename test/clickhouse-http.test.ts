import { type ChildProcess, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type ClickHouse,
  createClickHouse,
  insertUniqueEvents,
  migrate,
  recordIds,
  StoreError,
} from '@tidemark/store';
import { makeRow, toJsonEachRow } from '@tidemark/store/fixture';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startClickHouseProcess } from '../harness/processes.js';

// scripts/clickhouse-http.ts gives several processes one ClickHouse over HTTP. It runs as a child process here,
// so this test's own process never binds chDB and talks to it only as to a ClickHouse server.
const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
let dataDir: string;
let server: ChildProcess;
let url: string;
let ch: ClickHouse;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tidemark-ch-http-'));
  const clickhouseProcess = await startClickHouseProcess(dataDir);
  server = clickhouseProcess.process;
  url = clickhouseProcess.url;
  ch = createClickHouse({ url });
});

afterAll(async () => {
  await ch?.close();
  if (server && server.exitCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    const [code, signal] = await exited;
    // A clean close on SIGTERM: the handler stops the endpoint and the process ends by itself.
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs ESM code in a fresh Node process with tsx, so it can import the sink's TypeScript. */
async function runNode(code: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  return stdout;
}

async function count(projectId: string): Promise<number> {
  const [row] = await ch.query<{ n: string }>(
    'SELECT count() AS n FROM tidemark.events WHERE project_id = {p:String}',
    { p: projectId },
  );
  return Number(row?.n);
}

it('answers ping like a ClickHouse server', async () => {
  const res = await fetch(`${url}/ping`);
  expect(await res.text()).toBe('Ok.\n');
});

it('runs the sink migrations once through the server client, and a second run applies nothing', async () => {
  expect(ch.backend).toBe('server');
  const first = await migrate(ch);
  expect(first.applied).toContain('001_events.sql');
  expect(first.applied).toContain('002_events_quarantine.sql');
  expect((await migrate(ch)).applied).toEqual([]);
});

it('stores a retried insert with the same deduplication token once, and a different token again', async () => {
  const body = toJsonEachRow([makeRow({ project_id: 'http-dedup' }), makeRow({ project_id: 'http-dedup' })]);
  await ch.insertJsonEachRow('tidemark.events', body, { dedupToken: 'topic/0:10-11' });
  await ch.insertJsonEachRow('tidemark.events', body, { dedupToken: 'topic/0:10-11' });
  expect(await count('http-dedup')).toBe(2);
  await ch.insertJsonEachRow('tidemark.events', body, { dedupToken: 'topic/0:12-13' });
  expect(await count('http-dedup')).toBe(4);
});

it('does not let a token given as a URL setting stick to later inserts', async () => {
  // What @clickhouse/client sends for insert({ clickhouse_settings: { insert_deduplication_token } }).
  const row = toJsonEachRow([makeRow({ project_id: 'http-url-token' })]);
  for (const token of ['same', 'same']) {
    const params = new URLSearchParams({
      query_id: randomUUID(),
      insert_deduplication_token: token,
      query: 'INSERT INTO tidemark.events FORMAT JSONEachRow',
    });
    const res = await fetch(`${url}/?${params}`, { method: 'POST', body: row });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.headers.get('x-clickhouse-summary') ?? '{}')).toMatchObject({ written_rows: '1' });
  }
  expect(await count('http-url-token')).toBe(1);
  // Without a token, the same row again is a new insert: the previous request's setting is gone.
  await ch.insertJsonEachRow('tidemark.events', row);
  expect(await count('http-url-token')).toBe(2);
});

it('binds query parameters the way the server reads them, escapes included', async () => {
  const tricky = "it's\ta \\ back\nslash";
  const rows = await ch.query<{ s: string; a: string[]; n: string }>(
    'SELECT {s:String} AS s, {a:Array(String)} AS a, toString({n:UInt64}) AS n',
    { s: tricky, a: ['x', "y'z"], n: 18446744073709551615n },
  );
  expect(rows).toEqual([{ s: tricky, a: ['x', "y'z"], n: '18446744073709551615' }]);
});

it("looks up a whole flush's event ids over a server connection, and stores each event once", async () => {
  // 5 000 ids: as bound parameters they would not fit a request's URL.
  const rows = Array.from({ length: 5_000 }, () => makeRow({ project_id: 'http-unique' }));
  const first = await insertUniqueEvents(ch, toJsonEachRow(rows));
  await recordIds(ch, first.ids);
  const again = await insertUniqueEvents(ch, toJsonEachRow(rows));
  expect({ first: first.duplicates, again: again.duplicates, sent: again.text }).toEqual({
    first: 0,
    again: 5_000,
    sent: '',
  });
  const [stored] = await ch.query<{ n: string }>(
    "SELECT count() AS n FROM tidemark.events WHERE project_id = 'http-unique'",
  );
  expect(Number(stored?.n)).toBe(5_000);
});

it('refuses a bad row with the same StoreError as in-process chDB', async () => {
  const body = `${toJsonEachRow([makeRow({ project_id: 'http-bad' })])}{"project_id": "http-bad", "event_id": 42,\n`;
  const overHttp = await ch.insertJsonEachRow('tidemark.events', body).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(overHttp).toBeInstanceOf(StoreError);
  const { code, retriable, cause } = overHttp as StoreError & { cause: { code: string; type: string } };

  // The same insert on in-process chDB, in its own process and directory.
  const chdbPath = await mkdtemp(join(tmpdir(), 'tidemark-ch-http-cmp-'));
  try {
    const line = await runNode(
      `import { createClickHouse, migrate } from '@tidemark/store';
       const ch = createClickHouse({ chdbPath: process.env.CHDB_PATH });
       await migrate(ch);
       const err = await ch.insertJsonEachRow('tidemark.events', process.env.BODY).catch((e) => e);
       await ch.close();
       console.log(JSON.stringify({ code: err?.code, retriable: err?.retriable,
         cause: { code: String(err?.cause?.code), type: err?.cause?.type } }));`,
      { CHDB_PATH: chdbPath, BODY: body },
    );
    const inProcess = JSON.parse(line.trim().split('\n').at(-1) ?? '{}');
    expect({ code, retriable, cause: { code: String(cause.code), type: cause.type } }).toEqual(inProcess);
    expect(inProcess).toMatchObject({ code: 'insert_rejected', retriable: false });
  } finally {
    await rm(chdbPath, { recursive: true, force: true });
  }
  // Nothing of the refused body landed.
  expect(await count('http-bad')).toBe(0);
});

it('stores every insert when two processes and two connections write at the same time', async () => {
  const batches = 15;
  const insertMany = async (client: ClickHouse, projectId: string) => {
    for (let i = 0; i < batches; i++) {
      const rows = Array.from({ length: 10 }, () => makeRow({ project_id: projectId }));
      await client.insertJsonEachRow('tidemark.events', toJsonEachRow(rows), {
        dedupToken: `${projectId}/${i}-${randomUUID()}`,
      });
    }
  };
  const second = createClickHouse({ url });
  try {
    await Promise.all([
      insertMany(ch, 'http-conc-a'),
      insertMany(second, 'http-conc-b'),
      runNode(
        `import { createClickHouse } from '@tidemark/store';
         import { makeRow, toJsonEachRow } from '@tidemark/store/fixture';
         const ch = createClickHouse({ url: process.env.CH_URL });
         for (let i = 0; i < ${batches}; i++) {
           const rows = Array.from({ length: 10 }, () => makeRow({ project_id: 'http-conc-c' }));
           await ch.insertJsonEachRow('tidemark.events', toJsonEachRow(rows), { dedupToken: 'c/' + i });
         }
         await ch.close();`,
        { CH_URL: url },
      ),
    ]);
  } finally {
    await second.close();
  }
  expect(await count('http-conc-a')).toBe(batches * 10);
  expect(await count('http-conc-b')).toBe(batches * 10);
  expect(await count('http-conc-c')).toBe(batches * 10);
});
