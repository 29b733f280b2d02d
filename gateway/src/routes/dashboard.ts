import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

export interface DashboardRouteOptions {
  /** TIDEMARK_ADMIN_TOKEN; undefined: the page answers 404 `read_api_disabled`, since it only reads the read API. */
  adminToken: string | undefined;
  /**
   * The folder holding index.html, dashboard.css, the entry module dashboard.js and the modules it imports (every
   * other `*.js`; src/dashboard, or dist/dashboard built).
   */
  dir: string;
}

/**
 * The page may load its own script and style and talk to its own origin, nothing else: no inline code, no other
 * host, no frames, no forms posted anywhere. The token it holds is worth protecting from an injected script.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

/**
 * `GET /dashboard`: the live dashboard, static files read once at start and served from memory, no build step. The
 * script and style are named with their content hash in the page, so they are cached for a year and a new version
 * is a new URL; the page itself is revalidated each time (its ETag makes that a 304). The entry module's imports
 * (`./chart.js`) are renamed to the imported module's hashed name the same way. Only the entry imports: the other
 * modules import nothing, so each one's hash is its own content's and the entry's covers theirs.
 */
export const dashboardRoute: FastifyPluginAsync<DashboardRouteOptions> = async (app, opts) => {
  const read = (name: string) => readFile(join(opts.dir, name));
  const hashOf = (body: Buffer) => createHash('sha256').update(body).digest('base64url').slice(0, 16);
  const names = (await readdir(opts.dir)).filter((n) => n.endsWith('.js') && n !== 'dashboard.js').sort();
  const [entry, style, template, ...modules] = await Promise.all([
    read('dashboard.js'),
    read('dashboard.css'),
    read('index.html'),
    ...names.map(read),
  ]);
  const immutable = 'public, max-age=31536000, immutable';
  const assets = new Map<string, Asset>();
  let entryText = entry.toString('utf8');
  for (const [i, name] of names.entries()) {
    const body = modules[i] as Buffer;
    const hash = hashOf(body);
    const hashed = name.replace(/\.js$/, `.${hash}.js`);
    assets.set(hashed, { body, type: 'text/javascript; charset=utf-8', etag: hash, cacheControl: immutable });
    entryText = entryText.replaceAll(`'./${name}'`, `'./${hashed}'`);
  }
  const script = Buffer.from(entryText);
  const scriptHash = hashOf(script);
  const styleHash = hashOf(style);
  const page = Buffer.from(
    template
      .toString('utf8')
      .replaceAll('/dashboard/dashboard.js', `/dashboard/dashboard.${scriptHash}.js`)
      .replaceAll('/dashboard/dashboard.css', `/dashboard/dashboard.${styleHash}.css`),
  );
  assets.set(`dashboard.${scriptHash}.js`, {
    body: script,
    type: 'text/javascript; charset=utf-8',
    etag: scriptHash,
    cacheControl: immutable,
  });
  assets.set(`dashboard.${styleHash}.css`, {
    body: style,
    type: 'text/css; charset=utf-8',
    etag: styleHash,
    cacheControl: immutable,
  });
  const index: Asset = {
    body: page,
    type: 'text/html; charset=utf-8',
    etag: hashOf(page),
    // The page names the current script and style; revalidating it is what picks up a new version.
    cacheControl: 'no-cache',
  };

  app.addHook('onRequest', async () => {
    if (opts.adminToken === undefined) throw new GatewayError('read_api_disabled');
  });

  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset) => {
    reply
      .header('cache-control', asset.cacheControl)
      .header('etag', `"${asset.etag}"`)
      .header('content-security-policy', contentSecurityPolicy)
      .header('referrer-policy', 'no-referrer');
    if (request.headers['if-none-match'] === `"${asset.etag}"`) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  const hide = { schema: { hide: true } };
  app.get('/dashboard', hide, (request, reply) => send(request, reply, index));
  app.get('/dashboard/', hide, (request, reply) => send(request, reply, index));
  app.get<{ Params: { file: string } }>('/dashboard/:file', hide, (request, reply) => {
    const asset = assets.get(request.params.file);
    if (asset === undefined) throw new GatewayError('not_found');
    return send(request, reply, asset);
  });
};
