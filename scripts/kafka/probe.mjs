import net from 'node:net';

/**
 * @typedef {object} ListedBroker
 * @property {number} nodeId
 * @property {string} host
 * @property {number} port
 */

const METADATA_API_KEY = 3;
// Metadata v1 is the oldest version Kafka 3.x and 4.x both serve whose empty topic array means "no topics"
// (in v0 it meant "all topics"), so the answer stays small whatever the broker holds.
const METADATA_VERSION = 1;
const CLIENT_ID = 'tidemark-probe';

/**
 * Asks a broker which brokers it knows, over the Kafka wire protocol. A KRaft broker opens its client listener
 * only after it caught up with the metadata log and was unfenced, and lists only unfenced brokers, so an answer
 * that lists a broker means producers and consumers will be served. Plain TCP keeps scripts/kafka.mjs free of
 * npm dependencies (CI fetches Kafka before `pnpm install`).
 *
 * @param {{ host: string, port: number, timeoutMs?: number }} target
 * @returns {Promise<ListedBroker[]>}
 */
export function probeBroker({ host, port, timeoutMs = 2000 }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    /** @type {Buffer} */
    let received = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no Metadata answer within ${timeoutMs} ms`)),
    );
    socket.on('error', reject);
    socket.on('connect', () => socket.write(metadataRequest(1)));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      socket.end();
      try {
        resolve(parseBrokers(received.subarray(4, 4 + received.readInt32BE(0))));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** @param {number} correlationId */
function metadataRequest(correlationId) {
  const clientId = Buffer.from(CLIENT_ID);
  // Request header v1 (api key, api version, correlation id, client id) followed by an empty topic array.
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4);
  let at = body.writeInt16BE(METADATA_API_KEY, 0);
  at = body.writeInt16BE(METADATA_VERSION, at);
  at = body.writeInt32BE(correlationId, at);
  at = body.writeInt16BE(clientId.length, at);
  at += clientId.copy(body, at);
  body.writeInt32BE(0, at);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/**
 * Reads the broker array of a Metadata v1 response: after the correlation id, each broker is node id, host,
 * port and a nullable rack string.
 *
 * @param {Buffer} response
 * @returns {ListedBroker[]}
 */
function parseBrokers(response) {
  let at = 4;
  const count = response.readInt32BE(at);
  at += 4;
  /** @type {ListedBroker[]} */
  const brokers = [];
  for (let i = 0; i < count; i++) {
    const nodeId = response.readInt32BE(at);
    const hostLength = response.readInt16BE(at + 4);
    const host = response.toString('utf8', at + 6, at + 6 + hostLength);
    at += 6 + hostLength;
    const port = response.readInt32BE(at);
    const rackLength = response.readInt16BE(at + 4);
    at += 6 + Math.max(rackLength, 0);
    brokers.push({ nodeId, host, port });
  }
  return brokers;
}
