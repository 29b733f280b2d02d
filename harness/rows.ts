import type { Page } from 'playwright-core';
import type { Pipeline } from './pipeline.js';

/** The columns the browser tests look at. */
export interface StoredRow {
  event_id: string;
  project_id: string;
  type: string;
  event: string;
  anonymous_id: string;
  url: string;
  path: string;
  title: string;
  properties: string;
  user_agent_browser: string;
}

/**
 * Every stored row (raw, not FINAL: a duplicate must show) of one event in the pipeline's project, optionally
 * only those whose `properties.product` is one of `products`.
 */
export function clickRows(pipeline: Pipeline, event: string, products?: string[]): Promise<StoredRow[]> {
  const productFilter = products
    ? `AND JSONExtractString(properties, 'product') IN (${products.map((p) => `'${p}'`).join(', ')})`
    : '';
  return pipeline.clickhouse.query<StoredRow>(
    `SELECT toString(event_id) AS event_id, project_id, type, event, anonymous_id, url, path, title, properties,
            browser AS user_agent_browser
       FROM tidemark.events
      WHERE project_id = '${pipeline.projectId}' AND event = '${event}' ${productFilter}
      ORDER BY timestamp`,
  );
}

/**
 * How many events the SDK still holds in the page's IndexedDB queue; with `except`, not counting the events of
 * that name (the example page's `$web_vital` reports come when the browser decides).
 */
export function queuedInBrowser(page: Page, except?: string): Promise<number> {
  return page.evaluate(
    (except) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('tidemark');
        // No database yet: nothing queued. Abort the upgrade so this probe never creates the database with
        // a schema the SDK did not make.
        open.onupgradeneeded = () => open.transaction?.abort();
        open.onerror = () => (open.error?.name === 'AbortError' ? resolve(0) : reject(open.error));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('queue')) {
            db.close();
            resolve(0);
            return;
          }
          const all = db.transaction('queue').objectStore('queue').getAll();
          all.onsuccess = () => {
            db.close();
            const left = (all.result as { json: string }[]).filter(
              (stored) => except === undefined || JSON.parse(stored.json).event !== except,
            );
            resolve(left.length);
          };
          all.onerror = () => reject(all.error);
        };
      }),
    except,
  );
}
