import { uuidv7 } from './uuid.js';

/** What the SDK remembers about the visitor, under `tidemark.<name>` in `localStorage`. */
export type Remembered = 'anonymousId' | 'userId' | 'session' | 'props' | 'consent';

/** The visitor's state: ids, session, registered properties and consent. */
export interface Visitor {
  read(name: Remembered): string | undefined;
  /** Sets a value, or forgets it with `undefined`. */
  write(name: Remembered, value?: string): void;
  anonymousId(): string;
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
  const memory: Partial<Record<Remembered, string>> = {};
  const stored = (name: Remembered) => !cookieless || name === 'consent';
  const read = (name: Remembered) => {
    try {
      if (stored(name)) return localStorage.getItem(`tidemark.${name}`) ?? undefined;
    } catch {
      // No storage: memory below.
    }
    return memory[name];
  };
  const write = (name: Remembered, value?: string) => {
    memory[name] = value;
    try {
      if (stored(name)) {
        if (value === undefined) localStorage.removeItem(`tidemark.${name}`);
        else localStorage.setItem(`tidemark.${name}`, value);
      }
    } catch {
      // Kept in memory.
    }
  };
  return {
    read,
    write,
    anonymousId() {
      let id = read('anonymousId');
      if (!id) {
        id = uuidv7();
        write('anonymousId', id);
      }
      return id;
    },
    session(at) {
      // `<id> <last event ms>`: one item, so two tabs cannot tear it.
      const [id, last] = (read('session') ?? '').split(' ');
      const session = id && at - Number(last) < timeout ? id : uuidv7();
      write('session', `${session} ${Math.max(at, Number(last) || 0)}`);
      return session;
    },
  };
}
