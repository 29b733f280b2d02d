import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouse, createClickHouse, createWriter, migrate, type Writer } from '@tidemark/store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEmbeddedTransport } from './embedded.js';

// Real chDB; the writer is the real one, watched on its way through to count the INSERTs.
let dir: string;
let clickhouse: ClickHouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-embedded-transport-'));
  clickhouse = createClickHouse({ chdbPath: dir });
  await migrate(clickhouse);
}, 60_000);

afterAll(async () => {
  await clickhouse.close();
  await rm(dir, { recursive: true, force: true });
});

/** One request's rows for one visitor, as the gateway hands them over. */
function message(project: string, visitor: number, rows: number) {
  const value = Array.from(
    { length: rows },
    () =>
      `${JSON.stringify({
        project_id: project,
        event_id: randomUUID(),
        type: 'track',
        event: 'Button Clicked',
        timestamp: '2026-11-23 10:00:00.000',
        anonymous_id: `visitor-${visitor}`,
      })}\n`,
  ).join('');
  return { key: `${project}:visitor-${visitor}`, value };
}

it('puts the requests that arrive while an insert runs into the next INSERT, and answers each once its rows are in', async () => {
  const real = createWriter({ clickhouse });
  let writes = 0;
  const writer: Writer = {
    write(rows) {
      writes += 1;
      return real.write(rows);
    },
    quarantine: real.quarantine,
  };
  const transport = createEmbeddedTransport({ writer, clickhouse });
  const project = `p-${randomUUID().slice(0, 8)}`;
  // Twenty requests at once, as concurrent HTTP requests hand them over.
  await Promise.all(Array.from({ length: 20 }, (_, i) => transport.deliver([message(project, i, 20)])));
  const [stored] = await clickhouse.query<{ rows: string; ids: string }>(
    'SELECT count() AS rows, uniqExact(event_id) AS ids FROM tidemark.events WHERE project_id = {project:String}',
    { project },
  );
  expect({ rows: Number(stored?.rows), ids: Number(stored?.ids) }).toEqual({ rows: 400, ids: 400 });
  // The first goes alone; the other nineteen waited for it together.
  expect(writes).toBe(2);
  await transport.close();
}, 60_000);
