import type { EventRow } from '@tidemark/store';

// A small, deterministic product-analytics dataset with answers that can be worked out by hand: ten
// visitors' sessions over three weeks of March 2026, a funnel, Web Vitals, and the rows every query must
// leave out (a bot, another project, events before and at the end of the range). Each event is stored once
// (a resend is refused at insert: store/sql/008).

/** The range the tests query: three whole weeks, Monday 2 March to Monday 23 March 2026 (excluded). */
export const range = { from: '2026-03-02 00:00:00.000', to: '2026-03-23 00:00:00.000' } as const;
export const project = 'shop';

/** One event as the tests reason about it: the logical event, stored once or twice. */
export type ModelEvent = {
  project: string;
  id: string;
  type: 'page' | 'track';
  event: string;
  /** Milliseconds since the epoch, UTC. */
  ts: number;
  visitor: string;
  session: string;
  host: string;
  path: string;
  referrer_host: string;
  utm: readonly [source: string, medium: string, campaign: string];
  browser: string;
  os: string;
  device_type: string;
  country: string;
  bot: boolean;
  vital?: { name: string; value: number; rating: string };
  /** A track event's properties (a Web Vital's are `vital`'s). */
  props?: Readonly<Record<string, string | number | boolean>>;
};

type Client = Pick<ModelEvent, 'browser' | 'os' | 'device_type' | 'country'>;
type Visit = {
  visitor: string;
  session: string;
  /** UTC, `YYYY-MM-DD hh:mm:ss`. */
  start: string;
  client: Client;
  referrer?: string;
  utm?: ModelEvent['utm'];
  host?: string;
  project?: string;
  bot?: boolean;
  /** [seconds after start, '/path' for a page view or a track event's name, the track event's properties]. */
  steps: readonly (readonly [number, string, ModelEvent['props']?])[];
};

const linuxChrome: Client = { browser: 'Chrome', os: 'Linux', device_type: 'desktop', country: 'DE' };
const winFirefox: Client = { browser: 'Firefox', os: 'Windows', device_type: 'desktop', country: 'US' };
const macSafari: Client = { browser: 'Safari', os: 'macOS', device_type: 'desktop', country: 'US' };
const androidPhone: Client = { browser: 'Chrome', os: 'Android', device_type: 'mobile', country: 'DE' };
const winChrome: Client = { browser: 'Chrome', os: 'Windows', device_type: 'desktop', country: 'FR' };
const iPhone: Client = { browser: 'Safari', os: 'iOS', device_type: 'mobile', country: 'FR' };
const androidTablet: Client = { browser: 'Chrome', os: 'Android', device_type: 'tablet', country: '' };

const noUtm = ['', '', ''] as const;

/** The visits, in time order within each visitor. Session ids are unique across the dataset. */
export const visits: readonly Visit[] = [
  // v0 was first seen before the range, so no retention cohort holds them.
  { visitor: 'v0', session: 's0', start: '2026-02-20 10:00:00', client: winFirefox, steps: [[0, '/']] },
  {
    visitor: 'v1',
    session: 's1',
    start: '2026-03-02 09:00:00',
    client: linuxChrome,
    referrer: 'google.com',
    utm: ['newsletter', 'email', 'spring'],
    steps: [
      [0, '/'],
      [30, '/pricing'],
      [90, 'Signup Started', { plan: 'pro', seats: 3 }],
      [200.5, 'Signup Completed', { plan: 'pro', coupon: 'SPRING' }],
      [260, '/docs'],
      [261, '$click'],
    ],
  },
  {
    visitor: 'v2',
    session: 's2',
    start: '2026-03-02 10:00:00',
    client: winFirefox,
    steps: [
      [0, '/pricing'],
      [45, 'Signup Started', { plan: 'free', seats: 1 }],
    ],
  },
  {
    visitor: 'v3',
    session: 's3',
    start: '2026-03-03 12:00:00',
    client: macSafari,
    referrer: 'news.ycombinator.com',
    steps: [
      [0, '/pricing'],
      // An empty string is a value: `property=coupon%3D` keeps this session.
      [600, 'Signup Completed', { plan: 'free', coupon: '' }],
      [700, '/'],
    ],
  },
  {
    // Completes the signup two hours after the pricing page: outside a one-hour funnel window.
    visitor: 'v4',
    session: 's4',
    start: '2026-03-04 08:00:00',
    client: androidPhone,
    referrer: 'google.com',
    utm: ['google', 'cpc', 'brand'],
    steps: [
      [0, '/pricing'],
      // Starts on the free plan and completes on pro: `event=Signup Started&property=plan=pro` leaves this out.
      [60, 'Signup Started', { plan: 'free', seats: 1, trial: true }],
      [7300, 'Signup Completed', { plan: 'pro' }],
    ],
  },
  {
    visitor: 'v5',
    session: 's5',
    start: '2026-03-05 20:00:00',
    client: winChrome,
    steps: [
      [0, 'Signup Started', { plan: 'team', seats: 12 }],
      [10, '/'],
    ],
  },
  {
    visitor: 'v0',
    session: 's12',
    start: '2026-03-06 15:00:00',
    client: winFirefox,
    referrer: 'google.com',
    steps: [
      [0, '/'],
      [90, '/docs'],
    ],
  },
  // A session without a page view (an autocaptured click after the session timed out): not a visit.
  { visitor: 'v5', session: 's17', start: '2026-03-07 11:00:00', client: winChrome, steps: [[0, '$click']] },
  { visitor: 'v1', session: 's6', start: '2026-03-10 09:00:00', client: linuxChrome, steps: [[0, '/docs']] },
  {
    visitor: 'v3',
    session: 's7',
    start: '2026-03-11 18:30:00',
    client: macSafari,
    host: 'blog.example',
    referrer: 't.co',
    steps: [
      [0, '/'],
      [20, '/blog'],
      [40.75, '/blog/post'],
    ],
  },
  {
    visitor: 'v6',
    session: 's8',
    start: '2026-03-12 07:15:00',
    client: iPhone,
    host: 'blog.example',
    referrer: 't.co',
    utm: ['twitter', 'social', 'spring'],
    steps: [[0, '/blog/post']],
  },
  // A server-side event: no session.
  {
    visitor: 'v2',
    session: '',
    start: '2026-03-13 12:00:00',
    client: winFirefox,
    steps: [[0, 'Newsletter Subscribed', { plan: 'pro' }]],
  },
  {
    visitor: 'v1',
    session: 's9',
    start: '2026-03-17 09:00:00',
    client: linuxChrome,
    utm: ['newsletter', 'email', 'spring'],
    referrer: 'google.com',
    steps: [
      [0, '/'],
      [5, '/pricing'],
      [15, 'Signup Started', { plan: 'pro', seats: 3 }],
      [25, 'Signup Completed', { plan: 'pro' }],
    ],
  },
  {
    visitor: 'v6',
    session: 's10',
    start: '2026-03-18 21:00:00',
    client: iPhone,
    steps: [
      [0, '/'],
      [120, '/blog'],
    ],
  },
  {
    visitor: 'v7',
    session: 's11',
    start: '2026-03-19 11:00:00',
    client: androidTablet,
    referrer: 'google.com',
    steps: [
      [0, '/pricing'],
      [1200, '/'],
    ],
  },
  // The range's edges: `from` is included, `to` is not.
  { visitor: 'v8', session: 's13', start: '2026-03-02 00:00:00', client: winChrome, steps: [[0, '/']] },
  { visitor: 'v9', session: 's14', start: '2026-03-23 00:00:00', client: winChrome, steps: [[0, '/']] },
  // Flagged as a bot, and another project's visitor: never counted.
  {
    visitor: 'bot',
    session: 's15',
    start: '2026-03-10 03:00:00',
    client: winChrome,
    bot: true,
    steps: [
      [0, '/'],
      [1, '/pricing'],
    ],
  },
  {
    visitor: 'v1',
    session: 's16',
    start: '2026-03-10 09:30:00',
    client: linuxChrome,
    project: 'elsewhere',
    steps: [[0, '/pricing']],
  },
];

// web-vitals' own thresholds (good up to the first, poor above the second), as the SDK reports `rating`.
const thresholds: Record<string, readonly [number, number]> = { LCP: [2500, 4000], INP: [200, 500] };

function rate(name: string, value: number): string {
  const [good, poor] = thresholds[name] ?? [0, 0];
  return value <= good ? 'good' : value <= poor ? 'needs-improvement' : 'poor';
}

function eventId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/**
 * The logical events: each visit's steps, plus an LCP sample with every page view and an INP sample on
 * /pricing, at the page view's own time (so they never move a session's start or end). The values cycle
 * through all three ratings.
 */
export function modelEvents(): ModelEvent[] {
  const events: ModelEvent[] = [];
  let pageViews = 0;
  for (const visit of visits) {
    const start = Date.parse(`${visit.start.replace(' ', 'T')}Z`);
    for (const [seconds, step, props] of visit.steps) {
      const base = {
        project: visit.project ?? project,
        ts: start + Math.round(seconds * 1000),
        visitor: visit.visitor,
        session: visit.session,
        host: visit.host ?? 'shop.example',
        referrer_host: visit.referrer ?? '',
        utm: visit.utm ?? noUtm,
        bot: visit.bot ?? false,
        ...visit.client,
      };
      const add = (e: Pick<ModelEvent, 'type' | 'event' | 'path'> & Partial<ModelEvent>) =>
        events.push({ ...base, ...e, id: eventId(events.length + 1) });
      if (!step.startsWith('/')) {
        // A track event is sent from the page the visitor is on; the tests never read its path.
        add({ type: 'track', event: step, path: '', ...(props && { props }) });
        continue;
      }
      add({ type: 'page', event: '$pageview', path: step });
      const lcp = 900 + 700 * (pageViews % 6);
      add({
        type: 'track',
        event: '$web_vital',
        path: step,
        vital: { name: 'LCP', value: lcp, rating: rate('LCP', lcp) },
      });
      if (step === '/pricing') {
        const inp = 80 + 90 * (pageViews % 5);
        add({
          type: 'track',
          event: '$web_vital',
          path: step,
          vital: { name: 'INP', value: inp, rating: rate('INP', inp) },
        });
      }
      pageViews += 1;
    }
  }
  return events;
}

function formatTs(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The row the sink would store for `e`; `insertedAt` orders the copies of one event (ReplacingMergeTree's version). */
export function toRow(e: ModelEvent, insertedAt: string): Partial<EventRow> & { _inserted_at: string } {
  // Columns left out take ClickHouse's defaults (JSONEachRow fills omitted fields), which no query reads.
  return {
    project_id: e.project,
    event_id: e.id,
    type: e.type,
    event: e.event,
    timestamp: formatTs(e.ts),
    anonymous_id: e.visitor,
    session_id: e.session,
    host: e.host,
    path: e.path,
    url: `https://${e.host}${e.path}`,
    referrer_host: e.referrer_host,
    referrer: e.referrer_host ? `https://${e.referrer_host}/` : '',
    utm_source: e.utm[0],
    utm_medium: e.utm[1],
    utm_campaign: e.utm[2],
    browser: e.browser,
    os: e.os,
    device_type: e.device_type,
    country: e.country,
    bot_reason: e.bot ? 'ua:bot' : '',
    properties: e.vital
      ? JSON.stringify({ ...e.vital, delta: e.vital.value, id: `v5-${e.id}` })
      : JSON.stringify(e.props ?? {}),
    _inserted_at: insertedAt,
  };
}
