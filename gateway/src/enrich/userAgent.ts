// ua-parser-js stays on v1: v2 changed its licence to AGPL, v1 is MIT.
import UAParser from 'ua-parser-js';
import { memoize } from './memo.js';

/** What the User-Agent says about the visitor's software and device. */
export interface UserAgentInfo {
  browser: string;
  browser_version: string;
  os: string;
  /** ua-parser's device type (`mobile`, `tablet`, `smarttv`, …); `desktop` when it names none. */
  device_type: string;
}

const UNKNOWN: UserAgentInfo = { browser: '', browser_version: '', os: '', device_type: '' };

const parse = memoize((userAgent: string): UserAgentInfo => {
  const result = new UAParser(userAgent).getResult();
  return {
    browser: result.browser.name ?? '',
    browser_version: result.browser.version ?? '',
    os: result.os.name ?? '',
    // ua-parser reports no type for desktops: it only recognizes the other kinds by name.
    device_type: result.device.type ?? 'desktop',
  };
});

/** Parses a User-Agent string; an empty one yields empty fields, not a guessed `desktop`. */
export function parseUserAgent(userAgent: string): UserAgentInfo {
  return userAgent === '' ? UNKNOWN : parse(userAgent);
}
