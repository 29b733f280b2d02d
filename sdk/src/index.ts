export { createClient } from './client.js';
export { flush, init, page, track } from './init.js';
export { createIdbStore, createMemoryStore } from './store.js';
export type {
  EventContext,
  EventStore,
  EventType,
  PageContext,
  Properties,
  StoredEvent,
  TidemarkClient,
  TidemarkEvent,
  TidemarkOptions,
} from './types.js';
export { version } from './version.js';
