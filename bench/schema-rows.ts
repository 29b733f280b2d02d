// Realistic traffic for the schema benchmark: a few projects and hosts, visitors with sessions of several
// page views and clicks over a day, UTM-tagged landings, varied user agents and Web Vitals, long URLs and JSON
// properties. Deterministic (seeded), so two runs measure the same bytes.

import type { EventRow } from '@tidemark/store';
import { makeRow } from '@tidemark/store/fixture';

/** mulberry32: a tiny seeded PRNG, enough to make the same rows every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hosts = ['shop.example', 'docs.example', 'blog.example', 'www.example'];
const sections = ['products', 'docs', 'blog', 'category', 'search', 'account', 'cart', 'checkout'];
const browsers: [string, string, string, string][] = [
  ['Chrome', '131.0', 'Windows', 'desktop'],
  ['Chrome', '130.0', 'Android', 'mobile'],
  ['Safari', '18.1', 'iOS', 'mobile'],
  ['Safari', '17.6', 'macOS', 'desktop'],
  ['Firefox', '132.0', 'Linux', 'desktop'],
  ['Edge', '131.0', 'Windows', 'desktop'],
  ['Samsung Internet', '26.0', 'Android', 'tablet'],
];
const referrers = ['', 'https://www.google.com/', 'https://news.ycombinator.com/', 'https://t.co/abc', ''];
const vitals = ['LCP', 'INP', 'CLS', 'FCP', 'TTFB'] as const;
const ratings = ['good', 'needs-improvement', 'poor'] as const;

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

function uuidv7(rand: () => number, ms: number): string {
  const t = ms.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${hex(rand, 3)}-${'89ab'[Math.floor(rand() * 4)]}${hex(rand, 3)}-${hex(rand, 12)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

/** `count` rows of one day of traffic, as the gateway would write them. */
export function realisticRows(count: number, seed = 42): EventRow[] {
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const rows: EventRow[] = [];
  const day = Date.UTC(2026, 10, 23);
  while (rows.length < count) {
    const project = `proj_${Math.floor(rand() ** 2 * 5)}`;
    const host = pick(hosts);
    const anon = uuidv7(rand, day - Math.floor(rand() * 30 * 86_400_000));
    const userId = rand() < 0.2 ? `user_${Math.floor(rand() * 50_000)}` : '';
    const [browser, version, os, device] = pick(browsers);
    const referrer = pick(referrers);
    const campaign = rand() < 0.3;
    const locale = pick(['en-US', 'en-GB', 'de-DE', 'fr-FR', 'ja-JP']);
    const country = pick(['US', 'GB', 'DE', 'FR', 'JP', '']);
    let ms = day + Math.floor(rand() * 86_000_000);
    const session = uuidv7(rand, ms);
    const pages = 1 + Math.floor(rand() ** 2 * 8);
    for (let p = 0; p < pages && rows.length < count; p++) {
      const section = pick(sections);
      const path = `/${section}/${section === 'search' ? '' : `item-${Math.floor(rand() ** 3 * 2000)}`}`;
      const query =
        p === 0 && campaign
          ? `utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale-2026&gclid=${hex(rand, 24)}`
          : section === 'search'
            ? `q=${hex(rand, 6)}&page=${1 + Math.floor(rand() * 4)}`
            : '';
      const base = {
        project_id: project,
        anonymous_id: anon,
        user_id: userId,
        session_id: session,
        url: `https://${host}${path}${query ? `?${query}` : ''}`,
        host,
        path,
        query,
        title: `${section[0]?.toUpperCase()}${section.slice(1)} ${path.split('-')[1] ?? ''} | Example`,
        referrer: p === 0 ? referrer : `https://${host}/`,
        referrer_host: p === 0 ? (referrer ? new URL(referrer).host : '') : host,
        utm_source: p === 0 && campaign ? 'newsletter' : '',
        utm_medium: p === 0 && campaign ? 'email' : '',
        utm_campaign: p === 0 && campaign ? 'winter-sale-2026' : '',
        utm_term: '',
        utm_content: '',
        browser,
        browser_version: version,
        os,
        device_type: device,
        country,
        locale,
        screen_width: device === 'desktop' ? 1920 : 390,
        screen_height: device === 'desktop' ? 1080 : 844,
        bot_reason: rand() < 0.02 ? 'ua:headless' : '',
        traits: userId
          ? JSON.stringify({ plan: pick(['free', 'pro', 'team']), email_domain: 'example.org' })
          : '{}',
        library: '{"name":"tidemark-sdk","version":"0.1.0"}',
      };
      const at = (offset: number) => {
        const ts = ms + offset;
        const sent = ts + 200 + Math.floor(rand() * 2000);
        return {
          event_id: uuidv7(rand, ts),
          timestamp: iso(ts),
          client_ts: iso(ts),
          sent_at: iso(sent),
          received_at: iso(sent + 30 + Math.floor(rand() * 100)),
        };
      };
      rows.push(
        makeRow({
          ...base,
          ...at(0),
          type: 'page',
          event: '$pageview',
          properties: JSON.stringify({ path }),
        }),
      );
      for (const name of vitals) {
        if (rows.length >= count || rand() < 0.5) continue;
        const value = name === 'CLS' ? Math.round(rand() * 400) / 1000 : Math.round(rand() * 4000);
        const properties = JSON.stringify({
          name,
          value,
          delta: value,
          id: `v5-${ms}-${hex(rand, 13)}`,
          rating: pick(ratings),
          navigationType: 'navigate',
        });
        rows.push(makeRow({ ...base, ...at(1000), type: 'track', event: '$web_vital', properties }));
      }
      if (rows.length < count && rand() < 0.4) {
        const properties = JSON.stringify({
          product_id: `sku-${hex(rand, 8)}`,
          price: Math.round(rand() * 20000) / 100,
          currency: 'USD',
        });
        rows.push(makeRow({ ...base, ...at(5000), type: 'track', event: 'Product Added', properties }));
      }
      ms += 5_000 + Math.floor(rand() * 120_000);
    }
  }
  return rows;
}
