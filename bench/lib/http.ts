import { Agent, request } from 'node:http';
import { createServer } from 'node:net';

/** One keep-alive agent for the bench's own requests (ingest, probes, freshness polling). */
export const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Header name/value pairs as sent (original case). */
  rawHeaders: [string, string][];
  body: Buffer;
}

/** A request to 127.0.0.1 with a hard timeout; the body is read whole. */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number; keepAlive?: boolean } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
    const headers: Record<string, string> = { ...options.headers };
    if (body) headers['content-length'] = String(body.byteLength);
    const req = request(url, { method: options.method ?? 'GET', headers, agent: options.keepAlive === false ? false : agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) raw.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: raw, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 30_000} ms: ${options.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A port that was free a moment ago (for servers that cannot report the port they bound). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `probe` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | null | undefined>, options: { everyMs: number; timeoutMs: number; what: string }): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined) return value;
    } catch {
      /* not up yet */
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await new Promise((r) => setTimeout(r, options.everyMs));
  }
}
