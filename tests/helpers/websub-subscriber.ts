import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A WebSub subscriber written from the W3C Recommendation, independently of the hub under test (it
 * imports nothing from src/): a real HTTP server on 127.0.0.1 with one callback per subscription id,
 * `/cb/{id}` (any query string of the subscriber's own is allowed and recorded).
 *
 * - Verification of intent (§5.3): a GET carrying hub.mode, hub.topic and hub.challenge is confirmed
 *   (200 + the challenge as the body) only when it matches an intent this subscriber announced with
 *   `intend()`; anything else gets 404. Behaviours simulate broken callbacks: a wrong echo, no answer
 *   (timeout), a redirect, a refusal.
 * - Content distribution (§7): a POST is checked against the subscription's secret (§7.1,
 *   X-Hub-Signature sha256/sha1/sha384/sha512); a missing or wrong signature is recorded as rejected
 *   and ignored (still answered 2xx, as the spec asks). Answers follow a scripted status sequence, so
 *   tests can make a callback fail n times, or answer 410.
 * Also a client side: discover() reads a feed's Link headers, request() posts a (un)subscription.
 */

export type VerifyBehaviour = 'echo' | 'wrong-challenge' | 'timeout' | 'redirect' | 'refuse';

export interface CallbackSetup {
  secret?: string;
  verify?: VerifyBehaviour;
  /** Status of each successive POST; the last one repeats. Default [204]. */
  responses?: number[];
  /** Milliseconds to wait before answering a POST. */
  delayMs?: number;
}

export interface VerificationSeen {
  id: string;
  mode: string | null;
  topic: string | null;
  challenge: string | null;
  leaseSeconds: string | null;
  /** The full query string received (the subscriber's own parameters first). */
  search: string;
  answered: number | 'none';
}

export interface PushSeen {
  id: string;
  at: number;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** Why it was rejected (signature), or null for an accepted push. */
  rejected: string | null;
}

export interface Subscriber {
  port: number;
  /** http://{host}:{port}; host defaults to 127.0.0.1. */
  origin(host?: string): string;
  callbackUrl(id: string, options?: { host?: string; query?: string }): string;
  setup(id: string, setup: CallbackSetup): void;
  /** Records that this subscriber asked the hub for (un)subscription of `topic` at callback `id`. */
  intend(id: string, mode: 'subscribe' | 'unsubscribe', topic: string): void;
  verifications: VerificationSeen[];
  /** Every POST received, in arrival order (accepted, rejected and failed-on-purpose alike). */
  pushes: PushSeen[];
  /** POSTs of `id` answered 2xx with a valid (or no required) signature: what it actually received. */
  accepted(id: string): PushSeen[];
  /** POSTs whose connection the hub closed before the answer (not received as far as the hub knows). */
  aborted: { id: string; at: number }[];
  /** Most POSTs being answered at once since the start. */
  peakInFlight(): number;
  close(): Promise<void>;
}

/** Verifies X-Hub-Signature against the body (§7.1): `method=hex`, method one of sha1/256/384/512. */
export function checkSignature(secret: string, body: Buffer, header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return 'missing X-Hub-Signature';
  const match = /^(sha1|sha256|sha384|sha512)=([0-9a-f]+)$/.exec(header.trim());
  if (!match) return 'malformed X-Hub-Signature';
  const expected = createHmac(match[1]!, secret).update(body).digest();
  const given = Buffer.from(match[2]!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'X-Hub-Signature does not match the body';
  return null;
}

export async function startSubscriber(): Promise<Subscriber> {
  const setups = new Map<string, CallbackSetup>();
  const intents = new Map<string, { mode: string; topic: string }[]>();
  const postCounts = new Map<string, number>();
  const verifications: VerificationSeen[] = [];
  const pushes: PushSeen[] = [];
  const aborted: { id: string; at: number }[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let peak = 0;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://subscriber');
    const match = /^\/cb\/([^/]+)$/.exec(url.pathname);
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const id = decodeURIComponent(match[1]!);
    const setup = setups.get(id) ?? {};
    if (req.method === 'GET') {
      const q = url.searchParams;
      const seen: VerificationSeen = {
        id,
        mode: q.get('hub.mode'),
        topic: q.get('hub.topic'),
        challenge: q.get('hub.challenge'),
        leaseSeconds: q.get('hub.lease_seconds'),
        search: url.search,
        answered: 'none',
      };
      verifications.push(seen);
      const behaviour = setup.verify ?? 'echo';
      if (behaviour === 'timeout') return; // never answers; the hub must give up
      if (behaviour === 'redirect') {
        seen.answered = 302;
        res.writeHead(302, { Location: `/cb/${encodeURIComponent(id)}-elsewhere${url.search}` }).end();
        return;
      }
      const pending = intents.get(id) ?? [];
      const index = pending.findIndex((i) => i.mode === seen.mode && i.topic === seen.topic);
      if (behaviour === 'refuse' || index === -1 || !seen.challenge) {
        seen.answered = 404;
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such intent');
        return;
      }
      pending.splice(index, 1);
      seen.answered = 200;
      const body = behaviour === 'wrong-challenge' ? `${seen.challenge}x` : seen.challenge;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(body);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const n = postCounts.get(id) ?? 0;
      postCounts.set(id, n + 1);
      const script = setup.responses ?? [204];
      const scripted = script[Math.min(n, script.length - 1)]!;
      const rejected = setup.secret !== undefined ? checkSignature(setup.secret, body, req.headers['x-hub-signature']) : null;
      const answer = () => {
        inFlight -= 1;
        if (req.socket.destroyed) {
          aborted.push({ id, at: Date.now() });
          return;
        }
        // A push with a bad signature is ignored, but acknowledged (§7.1).
        const status = rejected ? 202 : scripted;
        pushes.push({ id, at: Date.now(), status, headers: req.headers, body, text: body.toString('utf8'), rejected });
        res.writeHead(status, { 'Content-Type': 'text/plain' }).end('ok');
      };
      if (setup.delayMs) setTimeout(answer, setup.delayMs);
      else answer();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    origin: (host = '127.0.0.1') => `http://${host}:${port}`,
    callbackUrl: (id, options = {}) => `http://${options.host ?? '127.0.0.1'}:${port}/cb/${encodeURIComponent(id)}${options.query ?? ''}`,
    setup: (id, setup) => setups.set(id, setup),
    intend(id, mode, topic) {
      const list = intents.get(id) ?? [];
      list.push({ mode, topic });
      intents.set(id, list);
    },
    verifications,
    pushes,
    accepted: (id) => pushes.filter((p) => p.id === id && p.rejected === null && p.status >= 200 && p.status < 300),
    aborted,
    peakInFlight: () => peak,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A feed's WebSub discovery (§4): the Link headers of a GET, as { hubs, self }. */
export async function discover(feedUrl: string): Promise<{ hubs: string[]; self: string | null; status: number; body: string }> {
  const res = await fetch(feedUrl);
  const body = await res.text();
  const links = parseLinkHeader(res.headers.get('link') ?? '');
  return { hubs: links.filter((l) => l.rel === 'hub').map((l) => l.url), self: links.find((l) => l.rel === 'self')?.url ?? null, status: res.status, body };
}

/** RFC 8288 Link header values (the simple forms hubs send: `<url>; rel="x"`, comma-separated). */
export function parseLinkHeader(header: string): { url: string; rel: string }[] {
  const out: { url: string; rel: string }[] = [];
  for (const m of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const rel = /;\s*rel="?([^";,]+)"?/.exec(m[2] ?? '')?.[1];
    if (rel) for (const r of rel.split(/\s+/)) out.push({ url: m[1]!, rel: r });
  }
  return out;
}

/** POSTs a (un)subscription request to a hub (§5.1) and returns its answer. */
export async function requestSubscription(
  hub: string,
  fields: { mode: 'subscribe' | 'unsubscribe'; topic: string; callback: string; secret?: string; leaseSeconds?: number | string },
): Promise<{ status: number; text: string }> {
  const form = new URLSearchParams({ 'hub.mode': fields.mode, 'hub.topic': fields.topic, 'hub.callback': fields.callback });
  if (fields.secret !== undefined) form.set('hub.secret', fields.secret);
  if (fields.leaseSeconds !== undefined) form.set('hub.lease_seconds', String(fields.leaseSeconds));
  const res = await fetch(hub, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  return { status: res.status, text: await res.text() };
}
