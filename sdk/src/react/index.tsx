import { createContext, type ReactNode, useContext } from 'react';
import { createClient } from '../client.js';
import type { TidemarkClient } from '../types.js';

/** Props of `<TidemarkProvider>`: the options of `createClient()` that a page sets. */
export interface TidemarkProviderProps {
  /** The project's write key. */
  writeKey: string;
  /** The gateway's origin, e.g. `'https://t.example.com'`; default: the page's own origin. */
  host?: string;
  /** Send events at most this many milliseconds after they were tracked. Default `5000`. */
  flushInterval?: number;
  children?: ReactNode;
}

const TidemarkContext = createContext<TidemarkClient | undefined>(undefined);

/**
 * One client per configuration for the life of the page. A client made with `useState` or `useMemo` would be
 * made twice under StrictMode (React calls those initializers twice in development), and both would send the
 * events earlier pages stored; one made in an effect would not exist during the first render. Kept here, keyed
 * by their options, every render, remount and provider with the same options share one client.
 */
const clients = new Map<string, TidemarkClient>();

function sharedClient(writeKey: string, host = '', flushInterval?: number): TidemarkClient {
  const key = JSON.stringify([writeKey, host, flushInterval]);
  let client = clients.get(key);
  if (!client) {
    client = createClient({ writeKey, host, flushInterval });
    clients.set(key, client);
  }
  return client;
}

/** Makes a Tidemark client available to `useTidemark()` in the components below. */
export function TidemarkProvider({ writeKey, host, flushInterval, children }: TidemarkProviderProps) {
  const client = sharedClient(writeKey, host, flushInterval);
  return <TidemarkContext.Provider value={client}>{children}</TidemarkContext.Provider>;
}

/** The client of the nearest `<TidemarkProvider>`: `track`, `page` and `flush`. The same object on every render. */
export function useTidemark(): TidemarkClient {
  const client = useContext(TidemarkContext);
  if (!client) throw new Error('useTidemark() must be called inside a <TidemarkProvider>');
  return client;
}
