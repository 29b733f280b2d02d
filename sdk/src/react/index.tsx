import { createContext, type ReactNode, useContext } from 'react';
import { createClient } from '../client.js';
import type { EventMap, TidemarkClient, TidemarkOptions } from '../types.js';

/** Props of `<TidemarkProvider>`: the options of `createClient()`, and the tree that uses the client. */
export interface TidemarkProviderProps extends TidemarkOptions {
  children?: ReactNode;
}

/** What server rendering gets: a client that does nothing, so components can call it unconditionally. */
const serverClient: TidemarkClient = {
  track() {},
  page() {},
  identify() {},
  group() {},
  alias() {},
  reset() {},
  register() {},
  optOut() {},
  optIn() {},
  flush: async () => {},
};

const TidemarkContext = createContext<TidemarkClient | undefined>(undefined);

/**
 * One client per write key for the life of the page. A client made with `useState` or `useMemo` would be made
 * twice under StrictMode (React calls those initializers twice in development), and two clients with one write
 * key would each send the stored events and each send a page view; one made in an effect would not exist during
 * the first render. Kept here, every render, remount and provider with the same write key share one client; the
 * options of the first provider win.
 */
const clients = new Map<string, TidemarkClient>();

/**
 * Makes a Tidemark client available to `useTidemark()` below it. Page views are automatic (the client follows
 * `history.pushState`, which client-side routers use); on the server it renders its children and does nothing.
 */
export function TidemarkProvider({ children, ...options }: TidemarkProviderProps) {
  let client = typeof window === 'undefined' ? serverClient : clients.get(options.writeKey);
  if (!client) {
    client = createClient(options);
    clients.set(options.writeKey, client);
  }
  return <TidemarkContext.Provider value={client}>{children}</TidemarkContext.Provider>;
}

/**
 * The client of the nearest `<TidemarkProvider>`, the same object on every render. Type your events with
 * `useTidemark<MyEvents>()`.
 */
export function useTidemark<Events extends EventMap = EventMap>(): TidemarkClient<Events> {
  const client = useContext(TidemarkContext);
  if (!client) throw new Error('useTidemark() must be called inside a <TidemarkProvider>');
  return client as TidemarkClient<Events>;
}
