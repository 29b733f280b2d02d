import { createClient } from './client.js';
import type { Properties, TidemarkClient, TidemarkOptions } from './types.js';

/** The page's default client, made by `init()`. */
let client: TidemarkClient | undefined;

/**
 * Creates the page's default client, which the functions below use, and returns it. Calling it again returns the
 * first client: two clients with one write key would each send the stored events.
 */
export function init(options: TidemarkOptions): TidemarkClient {
  client ??= createClient(options);
  return client;
}

// The default client's methods, for `import { track } from '@tidemark/sdk'`. Each does nothing before `init()`.

/** `track()` of the default client. */
export const track = (event: string, properties?: Properties): void => client?.track(event, properties);
/** `page()` of the default client. */
export const page = (name?: string, properties?: Properties): void => client?.page(name, properties);
/** `identify()` of the default client. */
export const identify = (userId: string, traits?: Properties): void => client?.identify(userId, traits);
/** `group()` of the default client. */
export const group = (groupId: string, traits?: Properties): void => client?.group(groupId, traits);
/** `alias()` of the default client. */
export const alias = (userId: string, previousId?: string): void => client?.alias(userId, previousId);
/** `reset()` of the default client. */
export const reset = (): void => client?.reset();
/** `register()` of the default client. */
export const register = (properties: Properties): void => client?.register(properties);
/** `optOut()` of the default client. */
export const optOut = (): void => client?.optOut();
/** `optIn()` of the default client. */
export const optIn = (): void => client?.optIn();
/** `flush()` of the default client; resolves at once before `init()`. */
export const flush = async (): Promise<void> => client?.flush();
