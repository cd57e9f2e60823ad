import { join } from 'node:path';
import { spawnChild, stopChild, type Child } from './proc.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdefghijklmnopqrstuvwxyz';
export const PUBLIC_BASE_URL = 'https://news.example.co.uk';

export interface RunningService {
  child: Child;
  port: number;
  base: string;
  stop(): Promise<void>;
}

/** The environment of a service child: ours only, nothing inherited that could change its config. */
export function serviceEnv(options: { databaseUrl?: string; dataDir?: string; port?: number; extra?: Record<string, string> }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_OPTIONS']) if (process.env[key] !== undefined) env[key] = process.env[key];
  return {
    ...env,
    PORT: String(options.port ?? 0),
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl ?? '',
    DATA_DIR: options.dataDir ?? '',
    ADMIN_TOKEN,
    PUBLIC_BASE_URL,
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
    ...options.extra,
  };
}

/**
 * Starts `node dist/main.js` (pinned to `cpu`) and waits for its "listening" log line, which names
 * the port it bound (PORT=0).
 */
export async function startOurService(options: {
  cpu: string | null;
  databaseUrl?: string;
  dataDir?: string;
  nodeArgs?: string[];
  extraEnv?: Record<string, string>;
  timeoutMs?: number;
  /** The entry script (default dist/main.js): an A/B comparison runs a second build beside it. */
  entry?: string;
}): Promise<RunningService> {
  const env = serviceEnv({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, extra: options.extraEnv });
  const child = spawnChild('service', process.execPath, [...(options.nodeArgs ?? []), options.entry ?? join(ROOT, 'dist', 'main.js')], { cpu: options.cpu, env, cwd: ROOT });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start within ${options.timeoutMs ?? 120_000} ms:\n${child.output.slice(-20).join('\n')}`)), options.timeoutMs ?? 120_000);
    child.onLine((line) => {
      if (!line.includes('"listening"')) return;
      try {
        const parsed = JSON.parse(line) as { port?: number };
        if (parsed.port) {
          clearTimeout(timer);
          resolve(parsed.port);
        }
      } catch {
        /* not JSON */
      }
    });
    void child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before listening:\n${child.output.slice(-20).join('\n')}`));
    });
  });
  return { child, port, base: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}
