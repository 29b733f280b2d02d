// The parse-and-drop ceiling for bench/gateway.ts, run by it in a process of its own:
//   node --import tsx bench/gateway-ceiling.ts <port>
// The gateway's body parsing (text/plain through Fastify's JSON parser, the same body limit) and a 200, without
// auth, validation, enrichment or Kafka. Nothing else is loaded, so its RSS is Fastify's and tsx's alone.
import { createRequire } from 'node:module';
import type { Gateway } from '@tidemark/gateway';

// fastify is the gateway's dependency, not the root's: resolved from there, typed as the gateway's app.
const fastify = createRequire(new URL('../gateway/package.json', import.meta.url))('fastify') as (options: {
  bodyLimit: number;
  logger: boolean;
}) => Gateway['app'];

const app = fastify({ bodyLimit: 500 * 1024, logger: false });
const json = app.getDefaultJsonParser('remove', 'remove');
app.removeContentTypeParser('text/plain');
app.addContentTypeParser('text/plain', { parseAs: 'string' }, json);
// Events parsed so far, for bench/gateway.ts's CPU per event (the gateway's own metrics count them there).
let events = 0;
app.post('/v1/batch', async (request) => {
  const { batch } = request.body as { batch?: unknown[] };
  events += batch?.length ?? 0;
  return { accepted: batch?.length ?? 0, rejected: [] };
});
app.get('/events', async () => ({ events }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
