import { uuidv7 } from './uuid.js';

const KEY = 'tidemark.anonymousId';
/** The id of this page's visitor when `localStorage` cannot keep one. */
let fallback: string | undefined;

/**
 * The visitor's anonymous id, kept in `localStorage` so that it survives reloads and is shared by the tabs of
 * one origin. Where storage throws (Safari's old private mode, sandboxed frames, blocked cookies) or does not
 * exist (SSR, tests in Node), the id lives as long as the page.
 */
export function anonymousId(): string {
  try {
    let id = localStorage.getItem(KEY);
    if (!id) {
      id = uuidv7();
      localStorage.setItem(KEY, id);
    }
    return id;
  } catch {
    fallback ??= uuidv7();
    return fallback;
  }
}
