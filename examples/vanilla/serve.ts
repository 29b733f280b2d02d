import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';

/** Where a served example page should send its events. */
export interface SiteOptions {
  /** Folder with the site's `index.html` and assets. */
  root: string;
  /** Gateway base URL the page's SDK posts to, e.g. `http://127.0.0.1:8787`. */
  gatewayUrl: string;
  /** Write key the page uses. */
  writeKey: string;
  /** Port to listen on; `0` picks a free one. */
  port?: number;
  /** Interface to bind; loopback unless told otherwise. */
  listenHost?: string;
}

export interface ServedSite {
  /** Base URL of the page, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  close(): Promise<void>;
}

const sdkDist = join(dirname(createRequire(import.meta.url).resolve('@tidemark/sdk/package.json')), 'dist');

/**
 * Serves a static example site. `index.html` carries `__TIDEMARK_HOST__` and `__TIDEMARK_WRITE_KEY__`
 * placeholders filled in per request, so one build works against whichever gateway a test or the
 * start script runs; `/tidemark.min.js` is the SDK's script-tag build, straight from `sdk/dist`.
 */
export async function serveSite(options: SiteOptions): Promise<ServedSite> {
  // Closing ends every connection: a browser's spare keep-alive or speculative ones would otherwise hold the
  // close for a minute and more.
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  const template = await readFile(join(options.root, 'index.html'), 'utf8');
  const html = template
    .replaceAll('__TIDEMARK_HOST__', options.gatewayUrl)
    .replaceAll('__TIDEMARK_WRITE_KEY__', options.writeKey);
  const sendIndex = (_req: unknown, reply: { type(t: string): { send(b: string): unknown } }) =>
    reply.type('text/html; charset=utf-8').send(html);

  app.get('/', sendIndex);
  app.get('/index.html', sendIndex);
  // The script-tag core, and beside it the files it adds when a page turns on what is off by default
  // (`data-vitals`, `data-autocapture`).
  for (const file of ['tidemark.min.js', 'tidemark.vitals.min.js', 'tidemark.autocapture.min.js']) {
    app.get(`/${file}`, (_req, reply) =>
      reply.type('text/javascript').header('cache-control', 'no-cache').sendFile(file, sdkDist),
    );
  }
  await app.register(fastifyStatic, { root: options.root, index: false, wildcard: true });
  // Client-side routes (the React example) fall back to the page itself.
  app.setNotFoundHandler((req, reply) =>
    req.method === 'GET' && !req.url.includes('.') ? sendIndex(req, reply) : reply.code(404).send(),
  );

  const address = await app.listen({ port: options.port ?? 0, host: options.listenHost ?? '127.0.0.1' });
  return { url: `${address.replace('[::1]', 'localhost')}/`, close: () => app.close() };
}

const here = dirname(fileURLToPath(import.meta.url));
/** The vanilla example's own folder. */
export const vanillaRoot = join(here, 'public');

// `pnpm --filter @tidemark/example-vanilla start`: serve this example (or, with TIDEMARK_SITE_ROOT, another
// built site such as examples/react/dist) against a gateway that already runs.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const site = await serveSite({
    root: process.env.TIDEMARK_SITE_ROOT ?? vanillaRoot,
    gatewayUrl: process.env.TIDEMARK_GATEWAY_URL ?? 'http://127.0.0.1:8787',
    writeKey: process.env.TIDEMARK_WRITE_KEY ?? 'demo-write-key',
    port: Number(process.env.PORT ?? 8080),
    listenHost: process.env.TIDEMARK_LISTEN_HOST ?? '127.0.0.1',
  });
  console.log(`example site: ${site.url}`);
  const stop = () => void site.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
