/** The parts of a URL stored in their own columns. */
export interface UrlParts {
  host: string;
  path: string;
  /** Without the leading `?`. */
  query: string;
  params: URLSearchParams;
}

const EMPTY: UrlParts = { host: '', path: '', query: '', params: new URLSearchParams() };

/**
 * Splits an absolute URL; anything unparseable yields empty parts (the raw URL is still stored whole).
 * The host is the hostname, lowercased and without the port, so `www.shop.example:443` and
 * `www.shop.example` count as one site.
 */
export function splitUrl(url: string): UrlParts {
  if (url === '' || !URL.canParse(url)) return EMPTY;
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return EMPTY;
  return {
    host: parsed.hostname,
    path: parsed.pathname,
    query: parsed.search.replace(/^\?/, ''),
    params: parsed.searchParams,
  };
}

/** The hostname of a referrer, `''` when there is none or it is not a web URL. */
export function hostOf(url: string): string {
  return splitUrl(url).host;
}
