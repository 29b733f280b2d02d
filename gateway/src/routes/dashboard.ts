import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

export interface DashboardRouteOptions {
  /** TIDEMARK_ADMIN_TOKEN; undefined: the page answers 404 `read_api_disabled`, since it only reads the read API. */
  adminToken: string | undefined;
  /**
   * The folder holding index.html, dashboard.css, icon.svg, the entry module dashboard.js and the modules it imports (every
   * module it reaches through its imports; src/dashboard, or dist/dashboard built).
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

/** `from './name.js'`: how the dashboard's modules import each other (all in one folder, no bare specifiers). */
const importPattern = /(from\s+)'\.\/([\w-]+\.js)'/g;

/**
 * `GET /dashboard`: the live dashboard, static files read once at start and served from memory, no build step. The
 * modules and the style are named with their content hash, so they are cached for a year and a new version is a
 * new URL; the page itself is revalidated each time (its ETag makes that a 304). A module's imports
 * (`from './chart.js'`) are renamed to the imported module's hashed name before its own hash is taken, so a change
 * in any module gives every module that imports it, up to the entry `dashboard.js`, a new name too. The page
 * preloads every module (`<link rel="modulepreload">`), so the browser fetches them at once rather than one
 * level of imports after another.
 */
export const dashboardRoute: FastifyPluginAsync<DashboardRouteOptions> = async (app, opts) => {
  const read = (name: string) => readFile(join(opts.dir, name));
  const hashOf = (body: Buffer) => createHash('sha256').update(body).digest('base64url').slice(0, 16);
  const names = (await readdir(opts.dir)).filter((n) => n.endsWith('.js')).sort();
  const [style, icon, template, ...modules] = await Promise.all([
    read('dashboard.css'),
    read('icon.svg'),
    read('index.html'),
    ...names.map(read),
  ]);
  const sources = new Map(names.map((name, i) => [name, (modules[i] as Buffer).toString('utf8')]));
  const immutable = 'public, max-age=31536000, immutable';
  const assets = new Map<string, Asset>();
  /** Module name → its hashed name, filled depth first; `''` while a module's imports are being named. */
  const hashedNames = new Map<string, string>();
  const hashModule = (name: string, importer: string): string => {
    const done = hashedNames.get(name);
    if (done === '') throw new Error(`dashboard modules import each other in a cycle through ${name}`);
    if (done !== undefined) return done;
    const source = sources.get(name);
    if (source === undefined)
      throw new Error(`dashboard module ${importer} imports ${name}, which is missing`);
    hashedNames.set(name, '');
    const text = source.replace(importPattern, (_, from: string, imported: string) => {
      return `${from}'./${hashModule(imported, name)}'`;
    });
    const body = Buffer.from(text);
    const hash = hashOf(body);
    const hashed = name.replace(/\.js$/, `.${hash}.js`);
    assets.set(hashed, { body, type: 'text/javascript; charset=utf-8', etag: hash, cacheControl: immutable });
    hashedNames.set(name, hashed);
    return hashed;
  };
  const entry = hashModule('dashboard.js', 'index.html');
  const styleHash = hashOf(style);
  const iconHash = hashOf(icon);
  const preloads = [...hashedNames.values()]
    .filter((hashed) => hashed !== entry)
    .map((hashed) => `\n  <link rel="modulepreload" href="/dashboard/${hashed}">`)
    .join('');
  const scriptTag = '<script type="module" src="/dashboard/dashboard.js"></script>';
  if (!template.includes(scriptTag)) throw new Error(`the dashboard's index.html lacks ${scriptTag}`);
  const page = Buffer.from(
    template
      .toString('utf8')
      .replace(scriptTag, `<script type="module" src="/dashboard/${entry}"></script>${preloads}`)
      .replaceAll('/dashboard/dashboard.css', `/dashboard/dashboard.${styleHash}.css`)
      .replaceAll('/dashboard/icon.svg', `/dashboard/icon.${iconHash}.svg`),
  );
  assets.set(`dashboard.${styleHash}.css`, {
    body: style,
    type: 'text/css; charset=utf-8',
    etag: styleHash,
    cacheControl: immutable,
  });
  // The tab's icon: without one the browser asks for /favicon.ico, a 404 in every console.
  assets.set(`icon.${iconHash}.svg`, {
    body: icon,
    type: 'image/svg+xml',
    etag: iconHash,
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
