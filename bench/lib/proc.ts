import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every child process and temp dir the bench makes is registered here and removed on the way out:
 * at the end of a run, on an error, and on Ctrl-C or SIGTERM. Children are started in their own
 * process group, so `npm start` (npm → sh → tsx → node) is stopped whole, by its group id.
 */

const children = new Set<Child>();
const tempDirs = new Set<string>();
const cleanups: (() => Promise<void>)[] = [];

/** Registers async clean-up work (e.g. dropping a temporary database), run after children are stopped. */
export function onCleanup(fn: () => Promise<void>): () => void {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export interface Placement {
  cores: number;
  /** taskset CPU list for servers, or null when unpinned. */
  serverCpu: string | null;
  /** taskset CPU list for the load generator (wrk) and this process, or null when unpinned. */
  loadCpu: string | null;
  description: string;
}

export function detectPlacement(): Placement {
  const cores = availableParallelism();
  if (cores < 2) {
    return { cores, serverCpu: null, loadCpu: null, description: `${cores} core: server and load generator unpinned, sharing the one core (ratios still compare like with like)` };
  }
  return {
    cores,
    serverCpu: '0',
    loadCpu: '1',
    description: `${cores} cores: every server under test pinned to CPU 0 (taskset -c 0); wrk, pollers and this bench process on CPU 1 (taskset -c 1)${cores > 2 ? `; CPUs 2-${cores - 1} left to Postgres and the rest` : '; Postgres unpinned'}`,
  };
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `syndicate-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  // Retries ENOTEMPTY and EBUSY: a process that was just stopped may have left a file being written.
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  tempDirs.delete(dir);
}

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** The last lines of stdout and stderr, for error messages. */
  output: string[];
  exited: Promise<number | null>;
  onLine(listener: (line: string) => void): void;
}

/** Spawns `command args…`, pinned with taskset when `cpu` is given (taskset execs: the pid is the command's). */
export function spawnChild(
  name: string,
  command: string,
  args: string[],
  options: { cpu?: string | null; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Child {
  const [cmd, argv] = options.cpu ? ['taskset', ['-c', options.cpu, command, ...args]] : [command, args];
  const proc = spawn(cmd, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const feed = (stream: NodeJS.ReadableStream | null) => {
    let buffered = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        output.push(line);
        if (output.length > 200) output.shift();
        for (const l of listeners) l(line);
      }
    });
  };
  feed(proc.stdout);
  feed(proc.stderr);
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal ? -1 : null));
    });
    proc.once('error', (err) => {
      output.push(String(err));
      children.delete(child);
      resolve(-1);
    });
  });
  const child: Child = { name, process: proc, pid: proc.pid ?? -1, output, exited, onLine: (l) => listeners.push(l) };
  children.add(child);
  return child;
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child: Child, graceMs = 8000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  signalGroup(child.process, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.process, 'SIGKILL'), graceMs);
  const deadline = Date.now() + graceMs;
  await child.exited;
  clearTimeout(timer);
  // npm start: the service (npm's child, in the same group) is still shutting down when npm has
  // exited, and may still write to its data dir; removing that dir then fails with ENOTEMPTY. Wait
  // for the whole group to be gone, killing what is left once the grace period is over.
  const pgid = child.process.pid;
  if (pgid === undefined) return;
  // Bounded: a zombie nobody reaps would answer signal 0 for ever.
  const giveUpAt = deadline + 2000;
  while (groupAlive(pgid) && Date.now() < giveUpAt) {
    if (Date.now() >= deadline) killGroup(pgid);
    await sleep(20);
  }
}

/** Whether any process of the group `pgid` is still alive (signal 0 checks without signalling). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Runs a command to completion (bounded by timeoutMs) and returns its output. */
export async function run(
  command: string,
  args: string[],
  options: { cpu?: string | null; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string }> {
  const child = spawnChild(command, command, args, options);
  const timer = setTimeout(() => signalGroup(child.process, 'SIGKILL'), options.timeoutMs ?? 120_000);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, stdout: child.output.join('\n') };
}

let cleaning: Promise<void> | null = null;

/** Stops every child and removes every temp dir (idempotent). */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...children].map((child) => stopChild(child, 3000)));
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((err: unknown) => process.stderr.write(`clean-up step failed: ${String(err)}\n`));
    for (const dir of [...tempDirs]) removeTempDir(dir);
  })();
  return cleaning;
}

let installed = false;
let interrupted = false;

/** True once Ctrl-C or SIGTERM was received (errors after it are the clean-up's doing). */
export function wasInterrupted(): boolean {
  return interrupted;
}

/** Ctrl-C, SIGTERM and a crash all end with children stopped and temp dirs removed. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping child processes and removing temp dirs…\n`);
    const hardExit = setTimeout(() => process.exit(130), 10_000);
    hardExit.unref();
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    // Last resort (synchronous): anything still alive is killed, temp dirs go.
    for (const child of children) signalGroup(child.process, 'SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Pins this process (all its threads) to `cpu`, so it does not compete with the server's core. */
export async function pinSelf(cpu: string | null): Promise<void> {
  if (!cpu) return;
  await run('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { timeoutMs: 5000 });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Peak and current resident set size of a process, in bytes (Linux /proc). */
export async function memoryOf(pid: number): Promise<{ hwm: number; rss: number } | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) used so far by every process in a process group (the bench starts each
 * server as a group leader: nginx's master and worker are both counted). Unlike throughput, CPU per
 * request hardly moves when other work shares the machine: it is the noise-robust figure.
 */
export async function cpuSecondsOfGroup(pgid: number): Promise<number> {
  return cpuSecondsOf((pid, fields) => Number(fields[2]) === pgid); // pgrp is field 5
}

/**
 * CPU seconds used so far by a process and its children: a Postgres server, whose postmaster puts each
 * backend in a session of its own. A child that exited meanwhile is no longer counted.
 */
export async function cpuSecondsOfTree(root: number): Promise<number> {
  return cpuSecondsOf((pid, fields) => pid === root || Number(fields[1]) === root); // ppid is field 4
}

/** Sums utime + stime of every process in /proc that `match` picks (given its stat fields from state on). */
async function cpuSecondsOf(match: (pid: number, fields: string[]) => boolean): Promise<number> {
  const { readdir, readFile } = await import('node:fs/promises');
  let ticks = 0;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces) start at state (field 3).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (!match(Number(name), fields)) continue;
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14, 15
    } catch {
      /* the process ended meanwhile */
    }
  }
  return ticks / USER_HZ;
}
