export { createClient } from './client.js';
export { alias, flush, group, identify, init, optIn, optOut, page, register, reset, track } from './init.js';
export { createIdbStore, createLocalStore, createMemoryStore } from './store.js';
export type {
  BeforeSend,
  EventContext,
  EventMap,
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
