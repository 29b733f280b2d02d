/** The parts of a URL stored in their own columns. */
export interface UrlParts {
  host: string;
  path: string;
  /** Without the leading `?`. */
  query: string;
}

const EMPTY: UrlParts = { host: '', path: '', query: '' };

/**
 * Splits an absolute URL; anything unparseable yields empty parts (the raw URL is still stored whole).
 * The host is lowercased and keeps a port that is not the scheme's default: `https://www.shop.example:443/` is
 * `www.shop.example`, while `http://127.0.0.1:3000/` and `http://127.0.0.1:4000/` are two hosts (two development
 * servers are two sites). The WHATWG URL parser drops the default port itself (`URL.host`).
 */
export function splitUrl(url: string): UrlParts {
  if (url === '') return EMPTY;
  let parsed: URL;
  // One parse instead of URL.canParse and then the constructor, which parsed every URL twice; a URL that is
  // not one is rare, so the exception is the cheap side.
  try {
    parsed = new URL(url);
  } catch {
    return EMPTY;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return EMPTY;
  return { host: parsed.host, path: parsed.pathname, query: parsed.search.slice(1) };
}

let lastReferrer = '';
let lastReferrerHost = '';

/**
 * The host of a referrer as `splitUrl` has it (a port other than the default kept), `''` when there is none
 * or it is not a web URL. The last answer is kept: the
 * events of one request usually share their referrer (one visitor, one site), so most calls parse nothing.
 */
export function hostOf(url: string): string {
  if (url !== lastReferrer) {
    lastReferrerHost = splitUrl(url).host;
    lastReferrer = url;
  }
  return lastReferrerHost;
}

/**
 * The query's parameters when it may hold UTM ones, else undefined: a query with neither `utm_` nor a
 * percent-escape (which could spell it) cannot, and is not parsed.
 */
export function utmParams(query: string): URLSearchParams | undefined {
  return query.includes('utm_') || query.includes('%') ? new URLSearchParams(query) : undefined;
}
