import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouse, createClickHouse } from './clickhouse.js';
import { migrate } from './migrate.js';

/** A migrated chDB in a directory of its own, for one test file. */
export interface TempChdb {
  /** The data directory, under the system's temporary directory. */
  dir: string;
  clickhouse: ClickHouse;
  /** Closes the session and removes the directory. */
  close(): Promise<void>;
}

/**
 * chDB binds one data directory per process, and vitest runs each test file in a fork of its own, so a file
 * that needs the engine opens one fresh directory (named `<prefix>…`) and migrates it.
 */
export async function tempChdb(prefix = 'tidemark-chdb-'): Promise<TempChdb> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const clickhouse = createClickHouse({ chdbPath: dir });
  const close = async () => {
    await clickhouse.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await migrate(clickhouse);
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, clickhouse, close };
}
