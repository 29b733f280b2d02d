// The SDK-shaped batch every ingestion benchmark sends (bench/gateway.ts, bench/e2e/load.ts), so their figures
// are for the same bodies.
import { uuidv7 } from 'uuidv7';

export const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const products = ['kayak', 'paddle', 'dry-bag', 'life-vest', 'spray-skirt', 'roof-rack'];

/**
 * One visitor's `size`-event batch as the SDK sends it (DESIGN §2): a page view, then what they did on a shop's
 * pages, varied by the batch number `n`. With `session`, every event carries it as `context.sessionId`, so a
 * poller can tell when this batch became visible.
 */
export function batchBody(
  writeKey: string,
  n: number,
  size: number,
  { sentAt = Date.now(), session }: { sentAt?: number; session?: string } = {},
): string {
  const anonymousId = uuidv7();
  const batch = Array.from({ length: size }, (_, i) => {
    const product = products[(n + i) % products.length] ?? 'kayak';
    const page = i % 5 === 0;
    const path = page && i === 0 ? '/' : `/products/${product}`;
    const search = i === 0 ? `?utm_source=newsletter&utm_medium=email&utm_campaign=spring-${n % 7}` : '';
    const event = page
      ? { type: 'page', name: product, properties: { path, search } }
      : {
          type: 'track',
          event: ['Product Viewed', 'Product Added', 'Checkout Started'][i % 3],
          properties: {
            product_id: `${product}-${n % 40}`,
            price: 19 + ((n * 31 + i * 7) % 900),
            currency: 'EUR',
          },
        };
    return {
      ...event,
      messageId: uuidv7(),
      anonymousId,
      timestamp: new Date(sentAt - (size - i) * 1500).toISOString(),
      context: {
        page: {
          url: `https://shop.example${path}${search}`,
          path,
          referrer: i === 0 ? 'https://www.google.com/' : 'https://shop.example/',
          title: `${product[0]?.toUpperCase()}${product.slice(1)} | Shop Example`,
          search,
        },
        userAgent: CHROME,
        locale: 'de-DE',
        timezone: 'Europe/Berlin',
        screen: { width: 1920, height: 1080 },
        library: { name: '@tidemark/sdk', version: '0.1.0' },
        ...(session === undefined ? {} : { sessionId: session }),
      },
    };
  });
  return JSON.stringify({ writeKey, sentAt: new Date(sentAt).toISOString(), batch });
}
