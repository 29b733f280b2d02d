import { uuidv7 } from './uuid.js';

/** What the SDK remembers about the visitor, under `tidemark.<name>` in `localStorage`. */
export type Remembered = 'anonymousId' | 'userId' | 'session' | 'props' | 'consent';

/** The visitor's state: ids, session, registered properties and consent. */
export interface Visitor {
  read(name: Remembered): string | undefined;
  /** Sets a value, or forgets it with `undefined`. */
  write(name: Remembered, value?: string): void;
  anonymous(): string;
  /** The session of an event at time `at` (ms), which extends it: a new one after `timeout` ms of silence. */
  session(at: number): string;
}

/**
 * The visitor's state, kept in `localStorage` so that it survives reloads and is shared by the tabs of the
 * origin. With `cookieless`, or where storage throws (Safari's old private mode, sandboxed frames, blocked
 * storage) or is missing (SSR, Node), it lives as long as the page. The consent choice is kept even when
 * cookieless: it identifies no one, and asking again on every page would be worse.
 */
export function createVisitor(cookieless: boolean | undefined, timeout: number): Visitor {
  // What was read or written, kept: every event reads the ids and the session, and `localStorage` calls were a
  // large share of building one (Chromium profile of bench/sdk-track.ts). Another tab's write fires `storage`
  // here, which makes the next read go to the storage again.
  const memory: Partial<Record<string, string>> = {};
  const stored = (name: Remembered) => !cookieless || name === 'consent';
  /** When this page last stored the session. */
  let savedAt = 0;
  globalThis.addEventListener?.('storage', (event) => {
    if (event.key?.startsWith('tidemark.')) delete memory[event.key.slice(9)];
  });
  const read = (name: Remembered) => {
    if (!(name in memory) && stored(name)) {
      try {
        memory[name] = localStorage.getItem(`tidemark.${name}`) ?? undefined;
      } catch {
        // No storage: memory only.
      }
    }
    return memory[name];
  };
  /** Returns `value`: `anonymous()` stores a new id and returns it in one expression. */
  const write = <T extends string | undefined>(name: Remembered, value?: T): T => {
    memory[name] = value;
    try {
      if (stored(name)) {
        if (value === undefined) localStorage.removeItem(`tidemark.${name}`);
        else localStorage.setItem(`tidemark.${name}`, value);
      }
    } catch {
      // Kept in memory.
    }
    return value as T;
  };
  return {
    read,
    write,
    anonymous: () => read('anonymousId') || write('anonymousId', uuidv7()),
    session(at) {
      // `<id> <last event ms>`: one item, so two tabs cannot tear it.
      const [id, last = 0] = (read('session') ?? '').split(' ');
      const session = id && at - +last < timeout ? id : uuidv7();
      const value = `${session} ${Math.max(at, +last)}`;
      // Stored when it changed, else at most once a second (other tabs see the time that late): a write per
      // event was the largest single cost of building a burst of events.
      if (session !== id || at - savedAt > 1000) {
        write('session', value);
        savedAt = at;
      } else memory.session = value;
      return session;
    },
  };
}
