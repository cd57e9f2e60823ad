import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpRequest, waitFor } from '../lib/http.js';
import { spawnChild, stopChild, tempDir, type Child } from '../lib/proc.js';

/**
 * Baseline A, the physical limit here: Debian's nginx with one worker, no access log, serving the
 * same bytes from disk with gzip_static (feed.rss.gz beside feed.rss), with the same caching and CORS
 * headers our service sends. Started by the bench with its own config in a temp dir.
 */
export function findNginx(): string | null {
  for (const path of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(path)) return path;
  return null;
}

export interface RunningNginx {
  child: Child;
  port: number;
  base: string;
  stop(): Promise<void>;
}

export async function startNginx(options: {
  binary: string;
  cpu: string | null;
  /** URL path to serve, e.g. /feeds/bench-hot.rss */
  path: string;
  identity: Buffer;
  gzip: Buffer;
  /** Extra headers (caching, CORS) to add to every answer, as our service sends them. */
  headers: [string, string][];
}): Promise<RunningNginx> {
  const dir = tempDir('nginx');
  const www = join(dir, 'www');
  const file = join(www, ...options.path.split('/').filter(Boolean));
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, options.identity);
  writeFileSync(`${file}.gz`, options.gzip);
  // The worker runs as nobody: it must be able to read the tree.
  for (let d = join(file, '..'); d.startsWith(dir); d = join(d, '..')) chmodSync(d, 0o755);
  chmodSync(file, 0o644);
  chmodSync(`${file}.gz`, 0o644);
  const port = await freePort();
  const quote = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;
  const conf = `
worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 10000000;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  types { application/rss+xml rss; }
  default_type application/octet-stream;
  charset utf-8;
  charset_types application/rss+xml;
  server_tokens off;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    gzip_static on;
    gzip_vary on;
    etag on;
    location / {
${options.headers.map(([k, v]) => `      add_header ${k} ${quote(v)} always;`).join('\n')}
    }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const child = spawnChild('nginx', options.binary, ['-e', join(dir, 'error.log'), '-p', dir, '-c', confPath], { cpu: options.cpu });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => ((await httpRequest(`${base}${options.path}`, { keepAlive: false, timeoutMs: 1000 })).status === 200 ? true : null), {
      everyMs: 50,
      timeoutMs: 10_000,
      what: 'nginx',
    });
  } catch (err) {
    await stopChild(child);
    throw new Error(`nginx did not start: ${String(err)}\n${child.output.join('\n')}`);
  }
  return { child, port, base, stop: () => stopChild(child) };
}
