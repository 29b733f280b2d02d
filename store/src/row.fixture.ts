import { randomUUID } from 'node:crypto';
import type { EventRow } from './row.js';

/** A complete, valid EventRow for tests; override any column. */
export function makeRow(overrides: Partial<EventRow> = {}): EventRow {
  return {
    project_id: 'demo',
    event_id: randomUUID(),
    type: 'page',
    event: '$pageview',
    timestamp: '2025-01-15 10:20:30.123',
    client_ts: '2025-01-15 10:20:30.123',
    sent_at: '2025-01-15 10:20:31.000',
    received_at: '2025-01-15 10:20:31.456',
    anonymous_id: 'anon-1',
    user_id: '',
    session_id: 'sess-1',
    url: 'https://example.com/docs?utm_source=news',
    host: 'example.com',
    path: '/docs',
    query: 'utm_source=news',
    title: 'Docs',
    referrer: 'https://google.com/',
    referrer_host: 'google.com',
    utm_source: 'news',
    utm_medium: '',
    utm_campaign: '',
    utm_term: '',
    utm_content: '',
    browser: 'Chrome',
    browser_version: '131.0',
    os: 'Linux',
    device_type: 'desktop',
    country: '',
    locale: 'en-US',
    screen_width: 1920,
    screen_height: 1080,
    bot_reason: '',
    properties: '{"plan":"pro"}',
    traits: '{}',
    library: '{"name":"tidemark-sdk","version":"0.1.0"}',
    message_id: '',
    context: '{}',
    integrations: '{}',
    extra: '{}',
    ...overrides,
  };
}

/** Rows as the gateway serializes them: JSONEachRow text. */
export function toJsonEachRow(rows: EventRow[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}
