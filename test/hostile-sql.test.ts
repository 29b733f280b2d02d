import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReader, type Reader } from '@tidemark/gateway';
import { createClickHouse, migrate } from '@tidemark/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CorpusCase, hostileSqlCorpus } from '../chaos/hostile/sql-corpus.js';
import {
  type ClickHouseProcess,
  type ListeningScript,
  type Running,
  startClickHouseProcess,
  startGatewayProcess,
  startListeningScript,
  stopProcess,
} from '../harness/processes.js';
import { freePort } from '../scripts/kafka.mjs';

// The read API's two fences, each proven alone: the statement check (gateway/src/read/statement.ts) and
// ClickHouse's grants (chDB's one user in embedded mode, the read-only user of a server in distributed mode).
// Every process that runs chDB here is started with secrets in its environment, a file holds a marker, and a
// loopback HTTP server counts requests: no answer may hold a secret or the marker, no request may arrive, no
// file may be written, no row may change.
const secret = () => `s3cr3t-${randomBytes(12).toString('hex')}`;
const secrets = {
  TIDEMARK_ADMIN_TOKEN: secret(),
  TIDEMARK_WRITE_KEYS: `${secret()}:shop`,
  TIDEMARK_CORPUS_SECRET: secret(),
};
const marker = `marker-${randomBytes(12).toString('hex')}`;
let dir: string;
let hits = 0;
let counter: Server;
let corpus: CorpusCase[];
let outFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-hostile-sql-'));
  await writeFile(join(dir, 'marker.txt'), `${marker}\n`);
  outFile = join(dir, 'written.tsv');
  counter = createServer((_req, res) => {
    hits += 1;
    res.end(`${marker}\n`);
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  const { port } = counter.address() as AddressInfo;
  corpus = hostileSqlCorpus({
    markerFile: join(dir, 'marker.txt'),
    url: `http://127.0.0.1:${port}/x.tsv`,
    outFile,
  });
});

afterAll(async () => {
  await new Promise((resolve) => counter?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What leaked into one answer, if anything. */
function leaked(text: string): string | undefined {
  if (text.includes(marker)) return 'the marker file or URL';
  for (const [name, value] of Object.entries(secrets)) if (text.includes(value)) return name;
  return undefined;
}

type Answer = { status: number; text: string };

/** The cases chDB's grants must refuse on their own. */
const granted = () => corpus.filter((c) => !c.ungranted);

/** Runs `cases` through `send`; answers the cases that got another status than refusal, and every leak. */
async function run(cases: CorpusCase[], send: (c: CorpusCase) => Promise<Answer>) {
  const served: string[] = [];
  const leaks: string[] = [];
  for (const c of cases) {
    const answer = await send(c);
    if (answer.status !== 400) served.push(`${answer.status} ${c.goal}: ${c.sql}`);
    const leak = leaked(answer.text);
    if (leak) leaks.push(`${leak} via ${c.sql}`);
  }
  return { served, leaks };
}

function expectNothingReached() {
  expect(hits, 'requests that reached the loopback URL').toBe(0);
  expect(existsSync(outFile), 'a file written by a statement').toBe(false);
}

it('is a corpus of thousands of statements over every goal', () => {
  expect(corpus.length).toBeGreaterThan(3000);
  const goals = new Set(corpus.map((c) => c.goal));
  expect([...goals].sort()).toEqual(
    ['environment', 'file', 'format', 'limit', 'network', 'other-database', 'statements', 'write'].sort(),
  );
});

describe('embedded mode: the gateway process, both fences', () => {
  let gateway: Running & { url: string };
  beforeAll(async () => {
    const port = String(await freePort());
    gateway = await startGatewayProcess({
      env: {
        ...secrets,
        TIDEMARK_MODE: 'embedded',
        TIDEMARK_CHDB_PATH: join(dir, 'gateway'),
        TIDEMARK_PORT: port,
        TIDEMARK_HOST: '127.0.0.1',
        TIDEMARK_LOG_LEVEL: 'silent',
      },
    });
  });
  afterAll(async () => {
    if (gateway) await stopProcess(gateway);
  });

  it('refuses every statement of the corpus with 400, and none reaches anything', async () => {
    const count = async () =>
      JSON.parse((await sql(gateway.url, 'SELECT count() FROM tidemark.events')).text).rows;
    const before = await count();
    const { served, leaks } = await run(corpus, (c) => sql(gateway.url, c.sql, c.params));
    expect(leaks).toEqual([]);
    expect(served).toEqual([]);
    expectNothingReached();
    expect(await count()).toEqual(before);
  });
});

describe('the statement check alone: chDB with every grant', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('unrestricted');
  });
  afterAll(async () => target && (await stopProcess(target)));

  it('would leak without the check: the same engine reads the marker file and the environment', async () => {
    const file = await target.send(
      '/unchecked',
      `SELECT * FROM file('${join(dir, 'marker.txt')}', 'LineAsString')`,
    );
    expect(file.text).toContain(marker);
    const environment = await target.send('/unchecked', "SELECT file('/proc/self/environ')");
    expect(environment.text).toContain(secrets.TIDEMARK_CORPUS_SECRET);
  });

  it('refuses every statement of the corpus with 400, and none reaches anything', async () => {
    const { served, leaks } = await run(corpus, (c) => target.send('/checked', c.sql, c.params));
    expect(leaks).toEqual([]);
    expect(served).toEqual([]);
    expectNothingReached();
  });
});

describe('the grants alone: embedded chDB as the gateway opens it, without the check', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('writer');
  });
  afterAll(async () => target && (await stopProcess(target)));

  it('lets no statement of the corpus read a file, the environment or a URL, or write', async () => {
    const count = async () =>
      JSON.parse((await target.send('/unchecked', 'SELECT count() FROM tidemark.events')).text).rows;
    const before = await count();
    const { leaks } = await run(granted(), (c) => target.send('/unchecked', c.sql, c.params));
    expect(leaks).toEqual([]);
    expectNothingReached();
    expect(await count()).toEqual(before);
  });

  // What the grants do not hold, so that an engine upgrade that starts to guard them is noticed: these two
  // shapes need no grant in chDB, and only the statement check refuses them.
  it('does not guard the scalar file() nor INTO OUTFILE: only the check refuses those', async () => {
    const environment = await target.send('/unchecked', "SELECT file('/proc/self/environ')");
    expect(environment.text).toContain(secrets.TIDEMARK_CORPUS_SECRET);
    const written = join(dir, 'outfile-gap.tsv');
    await target.send('/unchecked', `SELECT 1 INTO OUTFILE '${written}'`);
    expect(existsSync(written)).toBe(true);
    await rm(written);
  });
});

describe('distributed mode: a ClickHouse server as the read-only user', () => {
  let server: ClickHouseProcess;
  let reader: Reader;
  beforeAll(async () => {
    // The tables, as a sink's migrations make them; then the server as the read API meets it.
    const data = join(dir, 'server');
    const port = await freePort();
    const writerServer = await startClickHouseProcess(data, port);
    const writer = createClickHouse({ url: writerServer.url });
    await migrate(writer);
    await writer.close();
    await stopProcess(writerServer);
    server = await startClickHouseProcess(data, port, { access: 'reader', env: secrets });
    reader = await openReader(
      { url: server.url, chdbPath: join(dir, 'unused') },
      { maxExecutionSeconds: 5, maxResultRows: 1000, maxRowsToRead: 0 },
    );
  });
  afterAll(async () => {
    await reader?.close();
    if (server) await stopProcess(server);
  });

  const send = async (c: CorpusCase, checked: boolean): Promise<Answer> => {
    try {
      const result = checked ? await reader.statement(c.sql, c.params) : await reader.query(c.sql, c.params);
      return { status: 200, text: JSON.stringify(result) };
    } catch (error) {
      const e = error as { status?: number; message: string; cause?: { message?: string } };
      return { status: e.status ?? 500, text: `${e.message} ${e.cause?.message ?? ''}` };
    }
  };

  it('refuses every statement of the corpus with 400, and none reaches anything', async () => {
    const { served, leaks } = await run(corpus, (c) => send(c, true));
    expect(leaks).toEqual([]);
    expect(served).toEqual([]);
    expectNothingReached();
  });

  it('with the check off, the grants let no statement read a file, the environment or a URL, or write', async () => {
    // A real server guards the scalar file() too (user_files_path) and never runs INTO OUTFILE; this stand-in is
    // chDB, which does not, so those shapes are left to the check here as in embedded mode.
    const { leaks } = await run(granted(), (c) => send(c, false));
    expect(leaks).toEqual([]);
    expectNothingReached();
  });
});

async function sql(url: string, statement: string, params?: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${url}/v1/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secrets.TIDEMARK_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: statement, ...(params ? { params } : {}) }),
  });
  return { status: response.status, text: await response.text() };
}

type Target = ListeningScript & {
  send(path: '/checked' | '/unchecked', sql: string, params?: Record<string, unknown>): Promise<Answer>;
};

async function startTarget(access: 'writer' | 'unrestricted'): Promise<Target> {
  const target = await startListeningScript(
    'test/support/sql-target.ts',
    ['--data', join(dir, access), '--access', access],
    secrets,
  );
  return Object.assign(target, {
    async send(path: string, statement: string, params?: Record<string, unknown>): Promise<Answer> {
      const response = await fetch(`${target.url}${path}`, {
        method: 'POST',
        body: JSON.stringify({ sql: statement, ...(params ? { params } : {}) }),
      });
      return { status: response.status, text: await response.text() };
    },
  });
}
