// What each process of the pipeline costs, read from /proc: CPU time (utime + stime of every thread, and of the
// main thread alone, which carries a Node process's event loop) and resident memory (VmRSS), sampled while a
// run goes on.
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const ticksPerSecond = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

/** utime + stime of a /proc stat file, ms; undefined once the process is gone. */
function statCpuMs(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    // Fields 14 and 15, counted after the parenthesized command name (which may contain spaces).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** VmRSS of a process, bytes; 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** CPU time of a process so far: all threads, and its main thread. */
export interface CpuTime {
  allMs: number;
  mainMs: number;
}

export function cpuTime(pid: number): CpuTime {
  return {
    allMs: statCpuMs(`/proc/${pid}/stat`) ?? 0,
    mainMs: statCpuMs(`/proc/${pid}/task/${pid}/stat`) ?? 0,
  };
}

/** CPU use of one process over a run: percent of one core, all threads and the main thread. */
export interface CpuUse {
  all: number;
  main: number;
}

/** The whole machine's busy CPU time so far (every core, every process), ms; and its number of cores. */
function machineBusyMs(): { busyMs: number; cores: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  // cpu  user nice system idle iowait irq softirq steal …, in clock ticks.
  const fields = (lines[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, v) => sum + v, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const cores = lines.filter((l) => /^cpu\d+ /.test(l)).length || 1;
  return { busyMs: ((total - idle) * 1000) / ticksPerSecond, cores };
}

/** What a watch measured between its start and `stop()`. */
export interface Usage {
  /** Per watched process. */
  cpu: Map<string, CpuUse>;
  rssPeak: Map<string, number>;
  /** The whole machine: percent of one core busy (all processes, ours and others'), and of how many cores. */
  machine: { busy: number; cores: number };
}

/** Peak RSS of each watched process, sampled every `intervalMs`, and CPU use between start and `stop()`. */
export interface Watch {
  stop(): Usage;
}

export function watch(pids: Map<string, number>, intervalMs = 500): Watch {
  const started = Date.now();
  const machineBefore = machineBusyMs();
  const before = new Map([...pids].map(([name, pid]) => [name, cpuTime(pid)]));
  const rssPeak = new Map([...pids].map(([name, pid]) => [name, rssBytes(pid)]));
  const sample = () => {
    for (const [name, pid] of pids) rssPeak.set(name, Math.max(rssPeak.get(name) ?? 0, rssBytes(pid)));
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const wallMs = Math.max(1, Date.now() - started);
      const cpu = new Map<string, CpuUse>();
      for (const [name, pid] of pids) {
        const from = before.get(name) ?? { allMs: 0, mainMs: 0 };
        const to = cpuTime(pid);
        cpu.set(name, {
          all: ((to.allMs - from.allMs) * 100) / wallMs,
          main: ((to.mainMs - from.mainMs) * 100) / wallMs,
        });
      }
      const machineAfter = machineBusyMs();
      const machine = {
        busy: ((machineAfter.busyMs - machineBefore.busyMs) * 100) / wallMs,
        cores: machineAfter.cores,
      };
      return { cpu, rssPeak, machine };
    },
  };
}

/**
 * The process listening on a loopback TCP port, found through /proc (its socket's inode among a process's open
 * files): how the benchmark finds a broker it did not start (KAFKA_BROKERS), or one scripts/kafka.mjs started.
 * Undefined when the port is not local or the process belongs to another user.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // State 0A is LISTEN.
      if (!local || fields[3] !== '0A') continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9])
        inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) return Number(entry);
      } catch {}
    }
  }
  return undefined;
}
