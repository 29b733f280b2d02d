// Realistic traffic for bench/read.ts, made by ClickHouse itself: `INSERT INTO tidemark.events SELECT … FROM
// numbers(…)`, one chunk of sessions per statement, so that ten million events take minutes where JSON through the
// sink would take the better part of an hour. The rows go into the real table, so the materialized views of the
// migrations (pageviews_hourly, sessions, web_vitals_daily) fill their rollups as they do from the sink.
//
// The shape, at N events (all of it scales with N except the paths):
//  - N / 50 visitors (200 000 at 10M), each with a browser, OS, device, country and locale of its own; 12 % are
//    identified users with traits, a third of them on two devices (two visitors, one person), 0.3 % are flagged
//    bots (all their events carry bot_reason).
//  - Sessions of about 10 events, each a visitor's drawn with a skew (a few return daily, most a few times a
//    month), starting anywhere in the window with a daily peak at 14:00 UTC. 40 % bounce after one page view,
//    the others view 2 to 15 pages, 3 s to 3 min apart.
//  - ~1 000 paths drawn log-uniformly (Zipf with s = 1): '/' takes 10 % of the views, '/pricing' 6 %; the rest
//    are /products/…, /blog/… and /docs/… pages. Hosts www.example.com (90 % of sessions) and docs.example.com.
//  - Per session a referrer on its first page (half direct, then search, social and a tail of 300 blogs) and,
//    for 12 % of sessions, UTM parameters on the landing URL.
//  - Per page view, as the SDK sends them: Web Vitals (`$web_vital` with web-vitals' Metric as properties) for
//    20 % of page views, LCP, FCP and TTFB soon after the load, CLS and INP when the page is hidden; autocaptured
//    `$click` (40 %) and `$outbound` (4 %); `Product Viewed` and `Add to Cart` on product pages, `Search`, and
//    `Signup Started` / `Signup Completed` on /pricing, each with its properties.
// Deterministic: every value is a hash of the session's number, the page's and the event's kind, so two runs
// write the same rows but for the clock. Events stamped later than the moment of their insert are not written:
// the generator replays the traffic up to now, no further.
import type { ClickHouse } from '@tidemark/store';

/** Where and how much to generate. */
export interface Traffic {
  /** The project every event belongs to. */
  project: string;
  /** Distinct visitors to draw sessions from. */
  visitors: number;
  /** Visitors' anonymous ids are stamped (UUIDv7) up to 90 days before this, in ms since the epoch. */
  visitorsSinceMs: number;
  /** Sessions start in [startMs, startMs + spanMs). */
  startMs: number;
  spanMs: number;
  /** With a daily peak at 14:00 UTC; false spreads them evenly (for a window of minutes). */
  daily: boolean;
}

const columns = `project_id, event_id, type, event, timestamp, client_ts, sent_at, received_at, anonymous_id, user_id,
  session_id, url, host, path, query, title, referrer, referrer_host, utm_source, utm_medium, utm_campaign, utm_term,
  utm_content, browser, browser_version, os, device_type, country, locale, screen_width, screen_height, bot_reason,
  properties, traits, library, visitor_number`;
/** cityHash64 over this is a number in [0, 1). */
const hashScale = '18446744073709551616.0';
const str = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** A number in [0, 1) fixed by `salt` and the SQL expressions `of`: the generator's only source of chance. */
const chance = (salt: string, ...of: string[]) =>
  `(cityHash64(${[...of, str(salt)].join(', ')}) / ${hashScale})`;

/** One of `choices` (SQL expressions of one type, with weights), drawn by `draw`, a chance. */
function pick(choices: readonly (readonly [string, number])[], draw: string): string {
  let total = 0;
  const bounds = choices.map(([, weight]) => {
    total += weight;
    return total;
  });
  return `[${choices.map(([sql]) => sql).join(', ')}][arrayFirstIndex(b -> ${draw} * ${total} < b, [${bounds.join(', ')}])]`;
}

/** A UUIDv7 as the SDK makes them: `ms` in front, then two 64-bit hashes' digits. */
function uuid7(ms: string, a: string, b: string): string {
  const t = `leftPad(lower(hex(toUInt64(${ms}))), 12, '0')`;
  const x = `leftPad(lower(hex(${a})), 16, '0')`;
  const y = `leftPad(lower(hex(${b})), 16, '0')`;
  return `concat(substring(${t}, 1, 8), '-', substring(${t}, 9, 4), '-7', substring(${x}, 1, 3), '-',
    substring('89ab', toUInt8(${b} % 4) + 1, 1), substring(${x}, 4, 3), '-', substring(${y}, 1, 12))`;
}

// Browser, version, OS, device type, screen width and height; weights in %.
const clients: [string, number][] = [
  [`('Chrome', '131.0', 'Windows', 'desktop', 1920, 1080)`, 29],
  [`('Chrome', '131.0', 'Android', 'mobile', 412, 915)`, 21],
  [`('Mobile Safari', '18.1', 'iOS', 'mobile', 390, 844)`, 17],
  [`('Safari', '18.1', 'macOS', 'desktop', 1512, 982)`, 8],
  [`('Edge', '131.0', 'Windows', 'desktop', 1920, 1080)`, 7],
  [`('Firefox', '133.0', 'Windows', 'desktop', 1920, 1080)`, 4],
  [`('Chrome', '131.0', 'macOS', 'desktop', 1728, 1117)`, 4],
  [`('Samsung Internet', '26.0', 'Android', 'mobile', 384, 854)`, 3],
  [`('Mobile Safari', '18.1', 'iOS', 'tablet', 820, 1180)`, 3],
  [`('Firefox', '133.0', 'Linux', 'desktop', 2560, 1440)`, 2],
  [`('Chrome', '131.0', 'Chrome OS', 'desktop', 1366, 768)`, 1],
  [`('', '', '', '', 0, 0)`, 1],
];
// Country and locale; '' is no country header.
const places: [string, number][] = [
  ...(
    [
      ['US', 'en-US', 28],
      ['DE', 'de-DE', 9],
      ['GB', 'en-GB', 8],
      ['IN', 'en-IN', 8],
      ['FR', 'fr-FR', 6],
      ['BR', 'pt-BR', 5],
      ['CA', 'en-CA', 4],
      ['JP', 'ja-JP', 4],
      ['NL', 'nl-NL', 3],
      ['ES', 'es-ES', 3],
      ['IT', 'it-IT', 3],
      ['PL', 'pl-PL', 2],
      ['AU', 'en-AU', 2],
      ['SE', 'sv-SE', 2],
      ['MX', 'es-MX', 2],
      ['', 'en-US', 2],
    ] as const
  ).map(([country, locale, weight]): [string, number] => [`(${str(country)}, ${str(locale)})`, weight]),
  // A tail of 40 more countries, one locale each.
  [`(char(65 + (cityHash64(v, 'tail') % 20), 65 + (cityHash64(v, 'tail') % 40) % 26), 'en')`, 9],
];
const referrers: [string, number][] = [
  [`''`, 52],
  [`'https://www.google.com/'`, 24],
  [`'https://www.bing.com/'`, 3],
  [`'https://duckduckgo.com/'`, 2],
  [`'https://t.co/'`, 4],
  [`'https://news.ycombinator.com/'`, 3],
  [`'https://www.facebook.com/'`, 4],
  [`'https://www.linkedin.com/'`, 2],
  [`'https://github.com/'`, 3],
  [`concat('https://blog', toString(cityHash64(s, 'blog') % 300), '.example.org/')`, 3],
];
const campaigns: [string, number][] = [
  [`('', '', '')`, 88],
  [`('newsletter', 'email', 'winter-sale-2026')`, 4],
  [`('google', 'cpc', 'brand')`, 3],
  [`('google', 'cpc', 'generic')`, 2],
  [`('twitter', 'social', 'launch')`, 2],
  [`('partner', 'referral', 'q4-partners')`, 1],
];

// The event kinds of a page view, k = 0 … 12, and whether each happens: k is drawn once per page, so a page has at
// most one of each.
const kinds = [
  '$pageview',
  '$web_vital', // LCP
  '$web_vital', // INP
  '$web_vital', // CLS
  '$web_vital', // FCP
  '$web_vital', // TTFB
  '$click',
  '$outbound',
  'Product Viewed',
  'Add to Cart',
  'Search',
  'Signup Started',
  'Signup Completed',
];
// Web Vitals by k: metric, median, spread (log-normal), web.dev's good and poor bounds, share of sampled pages.
const vitals = {
  name: `['LCP', 'INP', 'CLS', 'FCP', 'TTFB']`,
  median: '[2200., 160., 0.05, 1400., 500.]',
  sigma: '[0.5, 0.7, 1.0, 0.5, 0.6]',
  good: '[2500., 200., 0.1, 1800., 800.]',
  poor: '[4000., 500., 0.25, 3000., 1800.]',
  sent: '[0.95, 0.6, 0.9, 1., 1.]',
};
const isProduct = 'rank >= 5 AND rank % 3 = 0';
const keep = `multiIf(
    k = 0, 1,
    k <= 5, ${chance('vitals', 's', 'p')} < 0.2 AND ${chance('vital', 's', 'p', 'k')} < ${vitals.sent}[k],
    k = 6, ${chance('click', 's', 'p')} < 0.4,
    k = 7, ${chance('outbound', 's', 'p')} < 0.04,
    k = 8, ${isProduct} AND ${chance('viewed', 's', 'p')} < 0.8,
    k = 9, ${isProduct} AND ${chance('cart', 's', 'p')} < 0.12,
    k = 10, ${chance('search', 's', 'p')} < 0.04,
    k = 11, rank = 1 AND ${chance('signup', 's', 'p')} < 0.25,
    rank = 1 AND ${chance('signup', 's', 'p')} < 0.25 AND ${chance('signed up', 's', 'p')} < 0.5)`;

/** The path of the page whose rank (0 = most viewed) is the SQL expression `rank`. */
function pathOf(rank: string): string {
  return `multiIf(${rank} = 0, '/', ${rank} = 1, '/pricing', ${rank} = 2, '/docs', ${rank} = 3, '/blog',
    ${rank} = 4, '/signup', concat('/', ['products', 'blog', 'docs'][${rank} % 3 + 1], '/',
    ['item', 'post', 'page'][${rank} % 3 + 1], '-', toString(${rank})))`;
}
/** The rank of page `p` of session `s`: log-uniform over [0, 999), P(r) ∝ log((r + 2) / (r + 1)). */
const rankOf = (p: string) => `toUInt32(floor(pow(1000, ${chance('path', 's', p)}))) - 1`;
/** How long page `p` of session `s` is looked at, in ms: 3 s to 3 min, most under a minute. */
const dwellOf = (p: string) => `(3000 + floor(pow(${chance('dwell', 's', p)}, 2) * 180000))`;

/** When session `s` starts, in ms: evenly over the span, or bent within each UTC day towards 14:00. */
function sessionStart(t: Traffic): string {
  const at = `${t.startMs} + ${chance('start', 's')} * ${t.spanMs}`;
  if (!t.daily) return `toUInt64(${at})`;
  // x ↦ x − 0.6·sin(2πx)/2π, x the day's fraction since 14:00, moves each day's sessions towards 14:00 UTC: four
  // times as many then as at 02:00. It maps each day onto itself, so the span keeps its sessions but for a few
  // hours at its edges.
  const day = 86_400_000;
  return `toUInt64(${at} - ${day} * 0.6 * sin(2 * pi() * ((${at}) / ${day} - 14 / 24)) / (2 * pi()))`;
}

/**
 * The statement writing sessions `first` … `first + count - 1`; with `limit`, the first `limit` of their events
 * in a fixed order (the last chunk, to stop at exactly N).
 */
export function insertSessions(t: Traffic, first: number, count: number, limit?: number): string {
  const c = (salt: string) => chance(salt, 's', 'p', 'k');
  const z = `sqrt(-2 * log(${c('z1')} + 1e-12)) * cos(2 * pi() * ${c('z2')})`;
  const offset = `multiIf(k = 0, 0, k = 1, 800 + 3000 * ${c('at')}, k IN (2, 3), dwell * 0.95,
    k = 4, 300 + 1500 * ${c('at')}, k = 5, 50 + 600 * ${c('at')}, k = 6, dwell * ${c('at')}, k = 7, dwell * 0.9,
    k = 8, 100, k = 9, dwell * 0.6, k IN (10, 11), dwell * 0.3, dwell * 0.7)`;
  const category = `['shoes', 'shirts', 'bags', 'hats', 'jackets', 'socks', 'watches', 'belts', 'scarves',
    'gloves', 'kids', 'sale'][rank % 12 + 1]`;
  const price = `round(5 + (cityHash64(rank, 'price') % 20000) / 100, 2)`;
  const properties = `multiIf(
    k = 0, toJSONString(CAST((url, path, title, referrer), 'Tuple(url String, path String, title String, referrer String)')),
    k <= 5, toJSONString(CAST((metric, vital, vital, concat('v5-', toString(page_ms), '-', toString(cityHash64(s, p, k) % 9000000000000 + 1000000000000)),
      multiIf(vital <= ${vitals.good}[k], 'good', vital <= ${vitals.poor}[k], 'needs-improvement', 'poor'), 'navigate'),
      'Tuple(name String, value Float64, delta Float64, id String, rating String, navigationType String)')),
    k = 6, toJSONString(CAST((['button', 'a', 'a', 'input'][cityHash64(s, p, 'tag') % 4 + 1],
      ['Add to cart', 'Menu', 'Next', 'Search', 'Sign up', 'Read more'][cityHash64(s, p, 'text') % 6 + 1],
      'main > div.content > button.primary', ''), 'Tuple(tag String, text String, selector String, href String)')),
    k = 7, toJSONString(CAST(('a', 'GitHub', 'footer > nav > a', 'https://github.com/example/example'),
      'Tuple(tag String, text String, selector String, href String)')),
    k = 8, toJSONString(CAST((concat('sku-', toString(rank)), ${category}, ${price}),
      'Tuple(product_id String, category String, price Float64)')),
    k = 9, toJSONString(CAST((concat('sku-', toString(rank)), ${category}, ${price}, 1 + cityHash64(s, p, 'qty') % 3, 'USD'),
      'Tuple(product_id String, category String, price Float64, quantity UInt8, currency String)')),
    k = 10, toJSONString(CAST((concat('query ', toString(cityHash64(s, p, 'q') % 500)), cityHash64(s, p, 'n') % 50),
      'Tuple(query String, results UInt8)')),
    toJSONString(CAST(tuple(${pick(
      [
        [`'free'`, 6],
        [`'pro'`, 3],
        [`'team'`, 1],
      ],
      chance('plan', 's'),
    )}), 'Tuple(plan String)')))`;
  return `INSERT INTO tidemark.events (${columns})
SELECT ${columns}
FROM
(
SELECT
    ${str(t.project)} AS project_id,
    toUUID(${uuid7('ts_ms', "cityHash64(s, p, k, 'id')", "cityHash64(s, p, k, 'id2')")}) AS event_id,
    if(k = 0, 'page', 'track') AS type,
    [${kinds.map(str).join(', ')}][k + 1] AS event,
    fromUnixTimestamp64Milli(toInt64(ts_ms), 'UTC') AS timestamp,
    timestamp AS client_ts,
    fromUnixTimestamp64Milli(toInt64(ts_ms + 200 + floor(2000 * ${c('sent')})), 'UTC') AS sent_at,
    sent_at + toIntervalMillisecond(30 + floor(100 * ${c('received')})) AS received_at,
    ${uuid7(`${t.visitorsSinceMs} - cityHash64(v, 'seen') % ${90 * 86_400_000}`, "cityHash64(v, 'anon')", "cityHash64(v, 'anon2')")} AS anonymous_id,
    -- Visitors come in pairs (v, v + 1 from an even v): a pair is identified or not together, and for a third of
    -- the identified pairs both are one person on two devices (the even visitor's user id).
    if(${chance('identified', 'intDiv(v, 2)')} < 0.12,
       concat('user_', toString(if(${chance('two devices', 'intDiv(v, 2)')} < 0.33, v - v % 2, v))), '') AS user_id,
    -- As a sink over a topic of 6 partitions numbers them (store/sql/040): dense per partition.
    -- (v % 6 is a UInt8, which bitShiftLeft would shift out of its own width.)
    bitShiftLeft(toUInt64(v % 6), 32) + intDiv(v, 6) + 1 AS visitor_number,
    ${uuid7('start_ms', "cityHash64(s, 'sid')", "cityHash64(s, 'sid2')")} AS session_id,
    concat('https://', host, path, if(query = '', '', concat('?', query))) AS url,
    host,
    ${pathOf('rank')} AS path,
    if(p = 0 AND utm.1 != '', concat('utm_source=', utm.1, '&utm_medium=', utm.2, '&utm_campaign=', utm.3), '') AS query,
    concat(multiIf(rank = 0, 'Home', rank = 1, 'Pricing', rank = 2, 'Docs', rank = 3, 'Blog', rank = 4, 'Sign up',
      concat(['Product', 'Post', 'Page'][rank % 3 + 1], ' ', toString(rank))), ' | Example') AS title,
    if(p = 0, landing_referrer, concat('https://', host, ${pathOf(`(${rankOf('toUInt64(p - 1)')})`)})) AS referrer,
    if(p = 0, domain(landing_referrer), host) AS referrer_host,
    if(p = 0, utm.1, '') AS utm_source,
    if(p = 0, utm.2, '') AS utm_medium,
    if(p = 0, utm.3, '') AS utm_campaign,
    '' AS utm_term,
    '' AS utm_content,
    client.1 AS browser,
    client.2 AS browser_version,
    client.3 AS os,
    client.4 AS device_type,
    place.1 AS country,
    place.2 AS locale,
    client.5 AS screen_width,
    client.6 AS screen_height,
    if(${chance('bot', 'v')} < 0.003, 'ua:headless', '') AS bot_reason,
    ${properties} AS properties,
    if(user_id = '', '{}', toJSONString(CAST((${pick(
      [
        [`'free'`, 6],
        [`'pro'`, 3],
        [`'team'`, 1],
      ],
      chance('plan', 'v'),
    )}, 'example.org'), 'Tuple(plan String, email_domain String)'))) AS traits,
    '{"name":"tidemark-sdk","version":"0.1.0"}' AS library,
    -- Helpers, not columns of the table: the outer SELECT leaves them out.
    ${rankOf('p')} AS rank,
    ${sessionStart(t)} AS start_ms,
    ${dwellOf('p')} AS dwell,
    start_ms + arraySum(arrayMap(q -> ${dwellOf('q')}, range(p))) AS page_ms,
    page_ms + toUInt64(${offset}) AS ts_ms,
    ${vitals.name}[k] AS metric,
    if(k = 3, round(${vitals.median}[k] * exp(${vitals.sigma}[k] * ${z}), 4),
      round(${vitals.median}[k] * exp(${vitals.sigma}[k] * ${z}), 1)) AS vital,
    ${pick(clients, chance('client', 'v'))} AS client,
    ${pick(places, chance('place', 'v'))} AS place,
    ${pick(referrers, chance('referrer', 's'))} AS landing_referrer,
    ${pick(campaigns, chance('utm', 's'))} AS utm
FROM
(
    SELECT
        number AS s,
        toUInt64(floor(${t.visitors} * pow(${chance('visitor', 'number')}, 1.3))) AS v,
        if(${chance('host', 'number')} < 0.9, 'www.example.com', 'docs.example.com') AS host,
        toUInt64(if(${chance('bounce', 'number')} < 0.4, 1, 2 + floor(pow(${chance('pages', 'number')}, 2.5) * 14))) AS pages,
        arrayJoin(range(pages)) AS p,
        arrayJoin(range(${kinds.length})) AS k
    FROM numbers(${first}, ${count})
)
WHERE ${keep} AND ts_ms <= toUnixTimestamp64Milli(now64(3))
${limit === undefined ? '' : `ORDER BY s, p, k LIMIT ${limit}`}
)
-- JSON.stringify in the SDK leaves '/' as is.
SETTINGS output_format_json_escape_forward_slashes = 0`;
}

/** What `generate` wrote. */
export interface Generated {
  /** Rows in tidemark.events. */
  events: number;
  /** Sessions drawn (some of the last ones cut short, or not written, at exactly N). */
  sessions: number;
  seconds: number;
  /** Statements run. */
  chunks: number;
}

/**
 * Writes sessions from `firstSession` on until tidemark.events holds `events` rows, in statements of about
 * `chunkEvents` rows. `onChunk` hears of each.
 */
export async function generate(
  ch: ClickHouse,
  traffic: Traffic,
  events: number,
  opts: { chunkEvents: number; firstSession?: number; onChunk?: (stored: number) => void },
): Promise<Generated> {
  const started = performance.now();
  const stored = async () =>
    Number((await ch.query<{ n: number }>('SELECT count() AS n FROM tidemark.events'))[0]?.n ?? 0);
  const before = await stored();
  let rows = before;
  let next = opts.firstSession ?? 0;
  let perSession = 10; // a first guess; measured after the first chunk
  let chunks = 0;
  while (rows - before < events) {
    const remaining = events - (rows - before);
    const last = remaining <= opts.chunkEvents;
    // The last chunk draws 10 % more sessions than it should need and keeps the first `remaining` events.
    const count = Math.ceil((last ? remaining * 1.1 : opts.chunkEvents) / perSession) + 10;
    await ch.command(insertSessions(traffic, next, count, last ? remaining : undefined));
    next += count;
    chunks += 1;
    rows = await stored();
    perSession = Math.max(1, (rows - before) / (next - (opts.firstSession ?? 0)));
    opts.onChunk?.(rows - before);
  }
  return {
    events: rows - before,
    sessions: next - (opts.firstSession ?? 0),
    seconds: (performance.now() - started) / 1000,
    chunks,
  };
}
