// ua-parser-js stays on v1: v2 changed its licence to AGPL, v1 is MIT.
import UAParser from 'ua-parser-js';

/** What the User-Agent says about the visitor's software and device. */
export interface UserAgentInfo {
  browser: string;
  browser_version: string;
  os: string;
  /** ua-parser's device type (`mobile`, `tablet`, `smarttv`, …); `desktop` when it names none. */
  device_type: string;
}

const UNKNOWN: UserAgentInfo = { browser: '', browser_version: '', os: '', device_type: '' };

// A visitor's events arrive in many requests with one User-Agent; parsing is the costliest step of
// normalization, so recent results are kept. Cleared when full rather than LRU: simple and bounded.
const cache = new Map<string, UserAgentInfo>();
const CACHE_SIZE = 2000;

/** Parses a User-Agent string; an empty one yields empty fields, not a guessed `desktop`. */
export function parseUserAgent(userAgent: string): UserAgentInfo {
  if (userAgent === '') return UNKNOWN;
  let info = cache.get(userAgent);
  if (info === undefined) {
    const result = new UAParser(userAgent).getResult();
    info = {
      browser: result.browser.name ?? '',
      browser_version: result.browser.version ?? '',
      os: result.os.name ?? '',
      // ua-parser reports no type for desktops: it only recognizes the other kinds by name.
      device_type: result.device.type ?? 'desktop',
    };
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(userAgent, info);
  }
  return info;
}
