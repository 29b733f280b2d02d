import { describe, expect, it } from 'vitest';
import type { SegmentEvent } from '../segment.js';
import { normalize, type Receipt, visitorKey } from './normalize.js';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';

const receivedAtMs = Date.parse('2025-03-10T12:00:05.250Z');

function receipt(overrides: Partial<Receipt> = {}): Receipt {
  return {
    projectId: 'shop',
    receivedAtMs,
    sentAt: '2025-03-10T12:00:05.000Z',
    userAgent: '',
    country: '',
    skewThresholdMs: 60_000,
    ...overrides,
  };
}

/** What the Tidemark SDK sends for a page view, with the context it fills in. */
const pageView: SegmentEvent = {
  type: 'page',
  messageId: '0195802a-6b1e-7c3d-9f00-1a2b3c4d5e6f',
  timestamp: '2025-03-10T12:00:04.900Z',
  anonymousId: 'anon-42',
  name: 'Pricing',
  properties: { plan: 'pro' },
  context: {
    page: {
      url: 'https://WWW.Shop.example:443/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&ref=1',
      path: '/pricing',
      referrer: 'https://news.example.org/issue/12?x=1',
      title: 'Pricing — Shop',
      search: '?utm_source=newsletter&utm_medium=email&utm_campaign=spring&ref=1',
    },
    userAgent: CHROME_WINDOWS,
    locale: 'de-DE',
    timezone: 'Europe/Berlin',
    screen: { width: 1920, height: 1080 },
    library: { name: '@tidemark/sdk', version: '0.1.0' },
    sessionId: 'sess-7',
  },
};

describe('normalize', () => {
  it('turns a page view from Chrome into a full events row', () => {
    expect(normalize(pageView, receipt())).toEqual({
      project_id: 'shop',
      event_id: '0195802a-6b1e-7c3d-9f00-1a2b3c4d5e6f',
      type: 'page',
      event: '$pageview',
      timestamp: '2025-03-10 12:00:04.900',
      client_ts: '2025-03-10 12:00:04.900',
      sent_at: '2025-03-10 12:00:05.000',
      received_at: '2025-03-10 12:00:05.250',
      anonymous_id: 'anon-42',
      user_id: '',
      session_id: 'sess-7',
      url: pageView.context?.page?.url,
      host: 'www.shop.example',
      path: '/pricing',
      query: 'utm_source=newsletter&utm_medium=email&utm_campaign=spring&ref=1',
      title: 'Pricing — Shop',
      referrer: 'https://news.example.org/issue/12?x=1',
      referrer_host: 'news.example.org',
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'spring',
      utm_term: '',
      utm_content: '',
      browser: 'Chrome',
      browser_version: '131.0.0.0',
      os: 'Windows',
      device_type: 'desktop',
      country: '',
      locale: 'de-DE',
      screen_width: 1920,
      screen_height: 1080,
      bot_reason: '',
      properties: '{"name":"Pricing","plan":"pro"}',
      traits: '{}',
      library: '{"name":"@tidemark/sdk","version":"0.1.0"}',
      message_id: '0195802a-6b1e-7c3d-9f00-1a2b3c4d5e6f',
      context: JSON.stringify(pageView.context),
      integrations: '{}',
      extra: '{}',
    });
  });

  it('turns a track event into a row named after the event, properties serialized as JSON', () => {
    const row = normalize(
      {
        type: 'track',
        messageId: '0195802a-6b1e-7c3d-9f00-aaaaaaaaaaaa',
        timestamp: '2025-03-10T12:00:03.000Z',
        anonymousId: 'anon-42',
        userId: 'user-9',
        event: 'Signed Up',
        properties: { plan: 'pro', seats: 3, tags: ['a', 'b'], nested: { ok: true } },
        context: { page: { url: 'https://shop.example/signup', referrer: '' } },
      },
      receipt({ userAgent: CHROME_ANDROID }),
    );
    expect(row).toMatchObject({
      type: 'track',
      event: 'Signed Up',
      event_id: '0195802a-6b1e-7c3d-9f00-aaaaaaaaaaaa',
      user_id: 'user-9',
      host: 'shop.example',
      path: '/signup',
      query: '',
      referrer_host: '',
      // No context.userAgent: the request's User-Agent header stands in.
      browser: 'Chrome',
      os: 'Android',
      device_type: 'mobile',
    });
    expect(JSON.parse(row.properties)).toEqual({
      plan: 'pro',
      seats: 3,
      tags: ['a', 'b'],
      nested: { ok: true },
    });
  });

  it('keeps the client clock when the skew is below the threshold (transit time is not folded in)', () => {
    const row = normalize(pageView, receipt({ sentAt: '2025-03-10T12:00:04.950Z' }));
    expect(row.timestamp).toBe('2025-03-10 12:00:04.900');
  });

  it('shifts the client clock by the measured skew when it exceeds the threshold', () => {
    // The client clock runs one hour slow: sent "11:00:05", received 12:00:05.250.
    const row = normalize(
      { ...pageView, timestamp: '2025-03-10T11:00:04.000Z' },
      receipt({ sentAt: '2025-03-10T11:00:05.000Z' }),
    );
    expect(row.timestamp).toBe('2025-03-10 12:00:04.250');
    expect(row.client_ts).toBe('2025-03-10 11:00:04.000');
    expect(row.sent_at).toBe('2025-03-10 11:00:05.000');
  });

  it('prefers the event own sentAt over the batch one', () => {
    const row = normalize(
      { ...pageView, timestamp: '2025-03-10T11:00:04.000Z', sentAt: '2025-03-10T11:00:05.000Z' },
      receipt(),
    );
    expect(row.timestamp).toBe('2025-03-10 12:00:04.250');
  });

  it('uses the receipt time for an event without a timestamp', () => {
    const { timestamp: _, ...withoutTime } = pageView;
    const row = normalize(withoutTime, receipt({ sentAt: undefined }));
    expect(row.timestamp).toBe('2025-03-10 12:00:05.250');
    expect(row.sent_at).toBe('2025-03-10 12:00:05.250');
  });

  it('takes UTM fields from context.campaign over the URL', () => {
    const row = normalize(
      {
        ...pageView,
        context: { ...pageView.context, campaign: { source: 'ads', term: 'shoes', content: 'b' } },
      },
      receipt(),
    );
    expect(row).toMatchObject({
      utm_source: 'ads',
      utm_medium: 'email',
      utm_campaign: 'spring',
      utm_term: 'shoes',
      utm_content: 'b',
    });
  });

  it('derives a stable UUID event_id from a non-UUID messageId, and a fresh one when absent', () => {
    const a = normalize({ ...pageView, messageId: 'ajs-next-123' }, receipt());
    const b = normalize({ ...pageView, messageId: 'ajs-next-123' }, receipt());
    expect(a.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.event_id).toBe(a.event_id);
    const { messageId: _, ...withoutId } = pageView;
    expect(normalize(withoutId, receipt()).event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('flags a crawler without dropping it', () => {
    const row = normalize(
      { ...pageView, context: { ...pageView.context, userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1)' } },
      receipt(),
    );
    expect(row.bot_reason).toBe('ua:google');
  });

  it.each([
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0',
      'ua:headless',
    ],
    ['curl/8.5.0', 'ua:curl'],
    ['python-requests/2.31', 'ua:python-requests'],
    [CHROME_WINDOWS, ''],
  ])(
    'gives %s the short bot reason "%s" (no versions: bot_reason is LowCardinality)',
    (userAgent, reason) => {
      expect(normalize({ ...pageView, context: {} }, receipt({ userAgent })).bot_reason).toBe(reason);
    },
  );

  it('keys a visitor by project and anonymousId, else userId', () => {
    expect(visitorKey(normalize(pageView, receipt()))).toBe('shop:anon-42');
    const { anonymousId: _, ...identified } = pageView;
    expect(visitorKey(normalize({ ...identified, userId: 'u1' }, receipt()))).toBe('shop:u1');
  });

  it('merges the batch context under the event context, the event winning, and never stores the IP', () => {
    const row = normalize(
      {
        ...pageView,
        context: { page: { path: '/own' }, locale: 'fr-FR', ip: '203.0.113.9', device: { id: 'd1' } },
      },
      receipt({
        context: {
          library: { name: 'analytics-go', version: '3.3.0' },
          locale: 'de-DE',
          page: { url: 'https://shop.example/batch?a=1', path: '/batch' },
          device: { model: 'Pixel' },
          ip: '198.51.100.1',
        },
      }),
    );
    expect(row).toMatchObject({
      url: 'https://shop.example/batch?a=1',
      path: '/batch',
      locale: 'fr-FR',
      library: '{"name":"analytics-go","version":"3.3.0"}',
    });
    expect(JSON.parse(row.context)).toEqual({
      library: { name: 'analytics-go', version: '3.3.0' },
      locale: 'fr-FR',
      page: { url: 'https://shop.example/batch?a=1', path: '/own' },
      device: { model: 'Pixel', id: 'd1' },
    });
  });

  it('merges batch integrations under the event integrations', () => {
    const row = normalize(
      { ...pageView, integrations: { All: false, Mixpanel: { key: 'k' } } },
      receipt({ integrations: { All: true, Amplitude: true, Mixpanel: { region: 'eu' } } }),
    );
    expect(JSON.parse(row.integrations)).toEqual({
      All: false,
      Amplitude: true,
      Mixpanel: { region: 'eu', key: 'k' },
    });
    expect(normalize(pageView, receipt()).integrations).toBe('{}');
  });

  it('keeps a page category and name in properties, and a conflicting call field in extra', () => {
    const row = normalize({ ...pageView, category: 'Docs', name: 'Getting Started' }, receipt());
    expect(JSON.parse(row.properties)).toEqual({ name: 'Getting Started', category: 'Docs', plan: 'pro' });
    expect(row.extra).toBe('{}');
    const clash = normalize(
      { ...pageView, category: 'Docs', properties: { category: 'Guides' }, extra: { channel: 'web' } },
      receipt(),
    );
    expect(JSON.parse(clash.properties)).toEqual({ name: 'Pricing', category: 'Guides' });
    expect(JSON.parse(clash.extra)).toEqual({ channel: 'web', category: 'Docs' });
  });

  it('stores the messageId as sent, and the generated event id when none was sent', () => {
    expect(normalize({ ...pageView, messageId: 'ajs-next-123' }, receipt()).message_id).toBe('ajs-next-123');
    const { messageId: _, ...withoutId } = pageView;
    const row = normalize(withoutId, receipt());
    expect(row.message_id).toBe(row.event_id);
  });
});
