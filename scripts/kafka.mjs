// A real single-node Apache Kafka (KRaft, broker + controller in one JVM) for development and tests, from
// Maven Central jars: no Docker, no Kafka download site. Plain Node ESM with no npm dependencies, so CI can
// run `node scripts/kafka.mjs fetch` before `pnpm install`.
//
// Why Kafka 4.4.0: Kafka 4.0 removed old protocol versions (KIP-896) and kafkajs 2.2.4 (2022) predates that,
// so we tested it. kafkajs negotiates the highest version both sides know, and every version it picked lies
// inside what 4.4.0 still serves (broker minimums in brackets): ApiVersions v2 [0], Metadata v6 [0],
// CreateTopics v3 [2], DeleteTopics v1 [1], Produce v7 [0; v3+ accepted], Fetch v11 [4], ListOffsets v3 [1],
// FindCoordinator v2 [0], JoinGroup v5 [0], SyncGroup v3 [0], Heartbeat, OffsetCommit v5 [2],
// OffsetFetch v4 [1], LeaveGroup v3 [0], DescribeGroups v2 [0], ListGroups v2 [0], InitProducerId v1 [0].
// Admin createTopics, acks=all keyed produce, an idempotent producer, a classic-protocol consumer group with
// eachBatch + commit, and offset fetches all passed (test/kafka.test.ts keeps proving it), so there was no
// reason to fall back to 3.9.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { probeBroker } from './kafka/probe.mjs';

export const KAFKA_VERSION = '4.4.0';
const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HERE = join(ROOT, 'scripts', 'kafka');
const CACHE_DIR = join(ROOT, '.cache', 'kafka');
const DEFAULT_DATA_DIR = join(ROOT, '.data', 'kafka');

/** A failure of this script, with a stable `code` to branch on (never the message). */
export class KafkaSetupError extends Error {
  /**
   * @param {'JAVA_MISSING' | 'JAVA_TOO_OLD' | 'MAVEN_FAILED' | 'PORT_IN_USE' | 'FORMAT_FAILED' | 'BROKER_EXITED' | 'START_TIMEOUT'} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'KafkaSetupError';
    this.code = code;
  }
}

/** @param {string} line */
const logToStderr = (line) => process.stderr.write(`[kafka] ${line}\n`);

/**
 * Downloads the broker jars with Maven into .cache/kafka/<version>/libs, once: an existing directory is
 * complete, because the download goes to a private directory that is renamed into place at the end.
 *
 * @param {{ version?: string, log?: (line: string) => void }} [options]
 * @returns {Promise<{ version: string, libDir: string }>}
 */
export async function fetchKafka({ version = KAFKA_VERSION, log = logToStderr } = {}) {
  const versionDir = join(CACHE_DIR, version);
  const libDir = join(versionDir, 'libs');
  if (existsSync(libDir)) return { version, libDir };

  await mkdir(versionDir, { recursive: true });
  const partial = join(versionDir, `libs.partial-${process.pid}`);
  const mavenLog = join(versionDir, 'fetch.log');
  log(`fetching Apache Kafka ${version} from Maven Central with Maven (first run only; log: ${mavenLog})`);
  const started = Date.now();
  const args = [
    ...['-B', '-ntp', '-Dstyle.color=never', '-f', join(HERE, 'pom.xml')],
    ...[`-Dkafka.version=${version}`, '-DincludeScope=runtime', `-DoutputDirectory=${partial}`],
    'dependency:copy-dependencies',
  ];
  const { code } = await run('mvn', args, { logFile: mavenLog, cwd: versionDir });
  if (code !== 0) {
    await rm(partial, { recursive: true, force: true });
    const why = code === null ? 'Maven (mvn) was not found on PATH' : `mvn exited with ${code}`;
    throw new KafkaSetupError('MAVEN_FAILED', `${why}:\n${tail(mavenLog, 20)}`);
  }
  // Another process may have finished the same download first; its copy is as good as ours.
  await rename(partial, libDir).catch(() => rm(partial, { recursive: true, force: true }));
  log(`fetched Kafka ${version} in ${((Date.now() - started) / 1000).toFixed(1)} s into ${libDir}`);
  return { version, libDir };
}

/**
 * @typedef {object} StartKafkaOptions
 * @property {number} [port] client listener on 127.0.0.1; 0 picks a free port. Default 9092.
 * @property {number} [controllerPort] KRaft controller listener; default a free port.
 * @property {string} [dataDir] storage, server.properties and kafka.log; formatted on first use, reused later.
 *   Default .data/kafka in the repository.
 * @property {string} [version] Kafka version from Maven Central. Default KAFKA_VERSION.
 * @property {string} [heap] JVM -Xmx. Default 512m (the machines have 2 cores and tests run beside it).
 * @property {boolean} [quickJit] compile with C1 only: starts ~1.5 s faster, lower peak throughput. For tests.
 * @property {number} [startTimeoutMs] give up (and kill the JVM) when the broker does not answer by then.
 * @property {(line: string) => void} [log] progress lines; default stderr.
 */

/**
 * @typedef {object} KafkaBroker
 * @property {string[]} brokers `host:port` list for clients (KAFKA_BROKERS).
 * @property {number} port the client listener's port
 * @property {number} controllerPort the KRaft controller listener's port: pass it and `port` and `dataDir` to
 *   startKafka again to bring the same broker back after a stop (the chaos harness does)
 * @property {number | undefined} pid the JVM's process id, for faults such as SIGSTOP
 * @property {string} dataDir
 * @property {string} logFile the JVM's stdout and stderr
 * @property {Promise<{ code: number | null, signal: string | null }>} exited settles when the JVM ends
 * @property {() => Promise<void>} stop SIGTERM (a clean shutdown), SIGKILL after 30 s; safe to call twice.
 * @property {() => Promise<void>} kill SIGKILL at once, and waits for the JVM to end.
 */

/**
 * Fetches (first run), formats (fresh data directory) and starts one broker, and resolves once it serves
 * clients.
 *
 * @param {StartKafkaOptions} [options]
 * @returns {Promise<KafkaBroker>}
 */
export async function startKafka(options = {}) {
  const port = options.port === 0 ? await freePort() : (options.port ?? 9092);
  await assertPortFree(port);
  const controllerPort = options.controllerPort ?? (await freePort());
  return startNode({
    ...options,
    dataDir: resolve(options.dataDir ?? DEFAULT_DATA_DIR),
    port,
    controllerPort,
    template: 'server.properties',
    values: {},
    formatArgs: ['--standalone', '--cluster-id', randomClusterId()],
  });
}

/**
 * @typedef {object} NodeSpec
 * @property {string} dataDir
 * @property {number} port
 * @property {number} controllerPort
 * @property {string} template a file in scripts/kafka with `${name}` placeholders
 * @property {Record<string, string>} values placeholders besides port, controllerPort and logDir
 * @property {string[]} formatArgs kafka-storage format arguments besides --config, used on a fresh data dir only
 */

/**
 * Starts one KRaft node: writes its server.properties, formats its storage when new, starts the JVM and
 * resolves once it serves clients (in a cluster: once the quorum elected a controller and unfenced it).
 *
 * @param {Omit<StartKafkaOptions, 'port' | 'controllerPort' | 'dataDir'> & NodeSpec} options
 * @returns {Promise<KafkaBroker>}
 */
async function startNode(options) {
  const { version = KAFKA_VERSION, heap = '512m', quickJit = false, log = logToStderr } = options;
  const { startTimeoutMs = 90_000, dataDir, port, controllerPort } = options;
  const { libDir } = await fetchKafka({ version, log });
  const java = await javaVersion();

  await mkdir(dataDir, { recursive: true });
  const storageDir = join(dataDir, 'storage');
  const configFile = join(dataDir, 'server.properties');
  const template = await readFile(join(HERE, options.template), 'utf8');
  /** @type {Record<string, string>} */
  const values = {
    ...options.values,
    port: String(port),
    controllerPort: String(controllerPort),
    logDir: storageDir,
  };
  await writeFile(
    configFile,
    template.replace(/\$\{(\w+)\}/g, (_, name) => values[name] ?? ''),
  );
  const logFile = join(dataDir, 'kafka.log');

  const classpath = await jarClasspath(libDir);
  const archive = join(CACHE_DIR, version, 'cds', `${hash(`${java.banner}\0${classpath}`)}.jsa`);
  const haveArchive = existsSync(archive);
  const jvm = [
    `-Xmx${heap}`,
    ...['-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'],
    `-Dlog4j2.configurationFile=${join(HERE, 'log4j2.properties')}`,
    ...['-cp', classpath],
  ];
  // Class-data sharing: the first broker to stop dumps the classes it loaded, and later JVMs map them instead
  // of loading ~40 MB of jars again (6.7 s -> 4.2 s to a ready broker here). A JVM whose build differs from
  // the one in the archive's name never sees it, because the name hashes `java -version`.
  const archiveArgs = haveArchive ? [`-XX:SharedArchiveFile=${archive}`] : [];

  if (!existsSync(join(storageDir, 'meta.properties'))) {
    log(`formatting KRaft storage in ${storageDir}`);
    const formatArgs = ['format', ...options.formatArgs, '--config', configFile];
    const formatJvm = [...jvm, ...archiveArgs, '-XX:TieredStopAtLevel=1', 'kafka.tools.StorageTool'];
    const { code } = await run('java', [...formatJvm, ...formatArgs], { logFile });
    if (code !== 0) {
      throw new KafkaSetupError('FORMAT_FAILED', `formatting ${storageDir} failed:\n${tail(logFile, 20)}`);
    }
  }

  // Per port: the nodes of a cluster start from one process at once, and each dumps its own archive.
  const dumpTo = `${archive}.${process.pid}.${port}.tmp`;
  if (!haveArchive) await mkdir(dirname(archive), { recursive: true });
  const brokerJvm = [
    ...jvm,
    ...(haveArchive ? archiveArgs : [`-XX:ArchiveClassesAtExit=${dumpTo}`]),
    ...(quickJit ? ['-XX:TieredStopAtLevel=1'] : []),
  ];
  const started = Date.now();
  const child = spawnLogged('java', [...brokerJvm, 'kafka.Kafka', configFile], { logFile });
  /** @type {Promise<{ code: number | null, signal: string | null }>} */
  const exited = new Promise((settle) => {
    child.once('exit', (code, signal) => settle({ code, signal }));
    child.once('error', () => settle({ code: null, signal: null }));
  });
  // A test runner that exits without calling stop() must not leave a broker behind holding the port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  /** @type {Promise<void> | undefined} */
  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if ((await within(exited, 30_000)) === undefined) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      process.off('exit', killOnExit);
      if (!haveArchive) await adoptArchive(dumpTo, archive);
    })();
    return stopping;
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    process.off('exit', killOnExit);
    await rm(dumpTo, { force: true });
  };

  const ready = await waitUntilServing({ port, exited, timeoutMs: startTimeoutMs });
  if (ready !== 'ready') {
    await stop();
    const code = ready === 'exited' ? 'BROKER_EXITED' : 'START_TIMEOUT';
    const why = ready === 'exited' ? 'the broker exited' : `no answer within ${startTimeoutMs} ms`;
    throw new KafkaSetupError(
      code,
      `Kafka did not start: ${why}. ${logFile} ends with:\n${tail(logFile, 30)}`,
    );
  }
  log(`Kafka ${version} ready at ${HOST}:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    brokers: [`${HOST}:${port}`],
    port,
    controllerPort,
    pid: child.pid,
    dataDir,
    logFile,
    exited,
    stop,
    kill,
  };
}

/**
 * @typedef {object} StartClusterOptions
 * @property {number} [nodes] how many nodes, each broker and controller. Default 3.
 * @property {string} dataDir one directory per node inside (`node-1`, …), formatted on first use.
 * @property {number} [replication] default.replication.factor and every internal topic's. Default min(3, nodes).
 * @property {number} [minInsyncReplicas] min.insync.replicas. Default min(2, replication).
 * @property {string} [version]
 * @property {string} [heap] JVM -Xmx per node. Default 384m (three JVMs on two cores).
 * @property {boolean} [quickJit]
 * @property {number} [startTimeoutMs]
 * @property {(line: string) => void} [log]
 */

/**
 * @typedef {object} KafkaCluster
 * @property {string[]} brokers every node's `host:port`, for clients (KAFKA_BROKERS).
 * @property {readonly KafkaBroker[]} nodes the JVM of each node now, by index (node id = index + 1).
 * @property {number} replication
 * @property {number} minInsyncReplicas
 * @property {(index: number) => Promise<void>} stopNode SIGTERM: a controlled shutdown (leadership moves first).
 * @property {(index: number) => Promise<void>} killNode SIGKILL: no goodbye; the others notice by timeouts.
 * @property {(index: number) => Promise<void>} startNode starts a stopped or killed node on its ports and data.
 * @property {(index: number) => void} freezeNode SIGSTOP: sockets open, nothing answered.
 * @property {(index: number) => void} thawNode SIGCONT
 * @property {() => Promise<void>} stop stops every node (thawing frozen ones first).
 */

/**
 * Starts an N-node KRaft cluster on loopback, every node with combined broker and controller roles, its own
 * data directory and ports, replication factor 3 and min.insync.replicas 2 by default, unclean leader election
 * off; resolves once every node serves clients.
 *
 * @param {StartClusterOptions} options
 * @returns {Promise<KafkaCluster>}
 */
export async function startKafkaCluster(options) {
  const { nodes: count = 3, heap = '384m' } = options;
  const replication = options.replication ?? Math.min(3, count);
  const minInsyncReplicas = options.minInsyncReplicas ?? Math.min(2, replication);
  if (replication > count || minInsyncReplicas > replication) {
    throw new RangeError(
      `a ${count}-node cluster cannot hold replication ${replication} with min.insync.replicas ${minInsyncReplicas}`,
    );
  }
  /** @type {{ port: number, controllerPort: number, dataDir: string }[]} */
  const specs = [];
  const taken = new Set();
  const distinctPort = async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  for (let i = 0; i < count; i++) {
    const dataDir = resolve(options.dataDir, `node-${i + 1}`);
    specs.push({ port: await distinctPort(), controllerPort: await distinctPort(), dataDir });
  }
  const voters = specs.map((spec, i) => `${i + 1}@${HOST}:${spec.controllerPort}`).join(',');
  const clusterId = randomClusterId();
  const launch = (/** @type {number} */ i) => {
    const spec = /** @type {(typeof specs)[number]} */ (specs[i]);
    return startNode({
      ...options,
      heap,
      ...spec,
      template: 'cluster.properties',
      values: {
        nodeId: String(i + 1),
        voters,
        replication: String(replication),
        minIsr: String(minInsyncReplicas),
      },
      formatArgs: ['--cluster-id', clusterId],
    });
  };
  // Together: a node serves clients only once a quorum of controllers is up.
  const started = await Promise.allSettled(specs.map((_, i) => launch(i)));
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s) => s.status === 'rejected');
  if (failure) {
    await Promise.all(running.map((node) => node.stop()));
    throw failure.reason;
  }
  const current = running;
  const node = (/** @type {number} */ i) => {
    const found = current[i];
    if (!found) throw new RangeError(`no node ${i} in a ${count}-node cluster`);
    return found;
  };
  const signal = (/** @type {number} */ i, /** @type {NodeJS.Signals} */ name) => {
    const { pid } = node(i);
    if (pid !== undefined) {
      try {
        process.kill(pid, name);
      } catch {
        // Already gone: nothing to freeze or thaw.
      }
    }
  };
  return {
    brokers: specs.map((spec) => `${HOST}:${spec.port}`),
    nodes: current,
    replication,
    minInsyncReplicas,
    stopNode: (i) => node(i).stop(),
    killNode: (i) => node(i).kill(),
    async startNode(i) {
      node(i);
      current[i] = await launch(i);
    },
    freezeNode: (i) => signal(i, 'SIGSTOP'),
    thawNode: (i) => signal(i, 'SIGCONT'),
    async stop() {
      for (let i = 0; i < count; i++) signal(i, 'SIGCONT');
      await Promise.all(current.map((n) => n.stop()));
    },
  };
}

/**
 * Polls the broker with a Metadata request until it lists itself.
 *
 * @param {{ port: number, exited: Promise<unknown>, timeoutMs: number }} target
 * @returns {Promise<'ready' | 'exited' | 'timeout'>}
 */
async function waitUntilServing({ port, exited, timeoutMs }) {
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited) return 'exited';
    const brokers = await probeBroker({ host: HOST, port }).catch(() => []);
    if (brokers.some((broker) => broker.port === port)) return 'ready';
    await within(exited, 200);
  }
  return hasExited ? 'exited' : 'timeout';
}

/** @returns {Promise<{ major: number, banner: string }>} */
async function javaVersion() {
  let banner = '';
  const child = spawn('java', ['-version'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (chunk) => {
    banner += chunk;
  });
  const code = await new Promise((settle) => {
    child.once('error', () => settle(null));
    child.once('exit', settle);
  });
  if (code === null) {
    throw new KafkaSetupError('JAVA_MISSING', 'java was not found on PATH; Kafka needs Java 17 or newer');
  }
  const major = Number(/version "(\d+)/.exec(banner)?.[1] ?? 0);
  if (major < 17) {
    throw new KafkaSetupError('JAVA_TOO_OLD', `Kafka needs Java 17 or newer; java on PATH is:\n${banner}`);
  }
  return { major, banner };
}

/** Explicit, sorted jar list: class-data sharing only reuses an archive made with the same classpath. */
async function jarClasspath(/** @type {string} */ libDir) {
  const jars = (await readdir(libDir)).filter((name) => name.endsWith('.jar')).sort();
  return jars.map((name) => join(libDir, name)).join(':');
}

/**
 * Keeps a class-data archive only when the JVM wrote one; a broker that was killed leaves none, and the
 * next start simply tries again.
 *
 * @param {string} dumped
 * @param {string} archive
 */
async function adoptArchive(dumped, archive) {
  const size = existsSync(dumped) ? statSync(dumped).size : 0;
  if (size > 0 && !existsSync(archive)) await rename(dumped, archive);
  else await rm(dumped, { force: true });
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, as kafka-storage random-uuid prints. */
function randomClusterId() {
  const id = randomBytes(16).toString('base64url');
  // Kafka's own generator avoids a leading '-' so the id cannot be read as a command-line flag.
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}

/** @param {string} text */
const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * A port on the loopback address that nothing listens on right now.
 *
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((settle, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => settle(port));
    });
  });
}

/** Fails fast with a clear message instead of a bind error buried in the broker log. */
function assertPortFree(/** @type {number} */ port) {
  return new Promise((settle, reject) => {
    const server = net.createServer();
    server.once('error', () =>
      reject(new KafkaSetupError('PORT_IN_USE', `${HOST}:${port} is in use (another broker? pick --port)`)),
    );
    server.listen(port, HOST, () => server.close(() => settle(undefined)));
  });
}

/**
 * Starts a process with stdout and stderr appended to a file.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {{ logFile: string, cwd?: string }} options
 */
function spawnLogged(command, args, { logFile, cwd }) {
  const fd = openSync(logFile, 'a');
  writeSync(fd, `\n--- ${new Date().toISOString()} ${command} ${args.at(-1) ?? ''}\n`);
  try {
    return spawn(command, args, { cwd, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {{ logFile: string, cwd?: string }} options
 * @returns {Promise<{ code: number | null }>}
 */
function run(command, args, options) {
  return new Promise((settle) => {
    const child = spawnLogged(command, args, options);
    child.once('error', (error) => {
      appendFileSync(options.logFile, `${command}: ${error.message}\n`);
      settle({ code: null });
    });
    child.once('exit', (code) => settle({ code }));
  });
}

/**
 * Resolves with the promise's value, or undefined after `ms` without keeping the process alive.
 *
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @returns {Promise<T | undefined>}
 */
function within(promise, ms) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((settle) => {
    timer = setTimeout(settle, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** @param {string} file @param {number} lines */
function tail(file, lines) {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

const USAGE = `usage: node scripts/kafka.mjs <command> [options]

  fetch                 download the Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)
  start                 run one broker in the foreground until Ctrl-C
    --port <n>          client port on ${HOST} (default 9092)
    --data-dir <dir>    storage and kafka.log (default .data/kafka)
    --quick-jit         C1-only JIT: faster start, lower throughput
    --nodes <n>         an n-node cluster on free ports instead (combined broker+controller roles,
                        replication factor 3, min.insync.replicas 2, unclean leader election off;
                        data in <data-dir>/node-<i>, default .data/kafka-cluster)`;

/** @param {string[]} argv */
async function main(argv) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'quick-jit': { type: 'boolean' },
      nodes: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const log = (/** @type {string} */ line) => console.log(line);
  const [command] = positionals;
  if (command === 'fetch') {
    const { libDir } = await fetchKafka({ log });
    console.log(`Kafka ${KAFKA_VERSION} jars are in ${libDir}`);
  } else if (command === 'start' && values.nodes !== undefined) {
    const cluster = await startKafkaCluster({
      nodes: Number(values.nodes),
      dataDir: values['data-dir'] ?? join(ROOT, '.data', 'kafka-cluster'),
      quickJit: values['quick-jit'] ?? false,
      log,
    });
    console.log(`KAFKA_BROKERS=${cluster.brokers.join(',')}`);
    console.log(
      `node logs: ${cluster.nodes.map((node) => node.logFile).join(' ')}. Ctrl-C stops the cluster.`,
    );
    await new Promise((settle) => {
      process.once('SIGINT', settle);
      process.once('SIGTERM', settle);
    });
    console.log('stopping the cluster…');
    await cluster.stop();
    console.log('cluster stopped');
  } else if (command === 'start') {
    const kafka = await startKafka({
      port: values.port === undefined ? 9092 : Number(values.port),
      dataDir: values['data-dir'],
      quickJit: values['quick-jit'] ?? false,
      log,
    });
    console.log(`KAFKA_BROKERS=${kafka.brokers.join(',')}`);
    console.log(`broker log: ${kafka.logFile}. Ctrl-C stops the broker.`);
    let stopRequested = false;
    const onSignal = () => {
      stopRequested = true;
      console.log('stopping Kafka…');
      kafka.stop().then(() => console.log('Kafka stopped'));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const { code, signal } = await kafka.exited;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!stopRequested) {
      console.error(`Kafka exited on its own (code ${code}, signal ${signal}); see ${kafka.logFile}`);
      process.exitCode = 1;
    }
  } else {
    console.log(USAGE);
    if (!values.help) process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`kafka: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  });
}
