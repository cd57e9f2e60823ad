import { run } from './proc.js';

export interface WrkResult {
  requestsPerSec: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx answers plus socket errors: must be 0 for a valid row. */
  errors: number;
  transferPerSec: string;
  raw: string;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export function parseWrk(out: string): WrkResult {
  const pct = (p: string) => toMs(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  // read errors are how wrk counts connections the server closed; only count them if there were no requests.
  const socketErrors = socket ? Number(socket[1]) + Number(socket[3]) + Number(socket[4]) : 0;
  return {
    requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50Ms: pct('50'),
    p75Ms: pct('75'),
    p90Ms: pct('90'),
    p99Ms: pct('99'),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    errors: non2xx + socketErrors,
    transferPerSec: /Transfer\/sec:\s+(\S+)/.exec(out)?.[1] ?? '',
    raw: out,
  };
}

export interface WrkOptions {
  url: string;
  durationSec: number;
  connections: number;
  headers: Record<string, string>;
  cpu: string | null;
  script?: string;
}

/** The wrk command line (what the bench runs, and what a reader can paste). */
export function wrkArgs(o: WrkOptions): string[] {
  const args = ['-t1', `-c${o.connections}`, `-d${o.durationSec}s`, '--latency', '--timeout', '5s'];
  for (const [k, v] of Object.entries(o.headers)) args.push('-H', `${k}: ${v}`);
  if (o.script) args.push('-s', o.script);
  args.push(o.url);
  return args;
}

export function wrkCommandLine(o: WrkOptions): string {
  const quote = (a: string) => (/^[\w./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [...(o.cpu ? ['taskset', '-c', o.cpu] : []), 'wrk', ...wrkArgs(o)].map(quote).join(' ');
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const { code, stdout } = await run('wrk', wrkArgs(o), { cpu: o.cpu, timeoutMs: (o.durationSec + 30) * 1000 });
  const result = parseWrk(stdout);
  if (code !== 0 || Number.isNaN(result.requestsPerSec)) throw new Error(`wrk failed (exit ${code}):\n${stdout}`);
  return result;
}
