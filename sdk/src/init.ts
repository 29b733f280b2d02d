import { createClient } from './client.js';
import type { Properties, TidemarkClient, TidemarkOptions } from './types.js';

/** The page's default client, made by `init()`. */
let client: TidemarkClient | undefined;

/**
 * Creates the page's default client, which `track`, `page` and `flush` use, and returns it. Calling it again
 * returns the first client: two clients with one write key would send the stored events twice.
 */
export function init(options: TidemarkOptions): TidemarkClient {
  client ??= createClient(options);
  return client;
}

/** `track()` of the default client; does nothing before `init()`. */
export function track(event: string, properties?: Properties): void {
  client?.track(event, properties);
}

/** `page()` of the default client; does nothing before `init()`. */
export function page(name?: string, properties?: Properties): void {
  client?.page(name, properties);
}

/** `flush()` of the default client; resolves at once before `init()`. */
export async function flush(): Promise<void> {
  await client?.flush();
}
