import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Readable, pipeline, type Transform } from 'node:stream';
import { TextDecoder } from 'node:util';
import zlib from 'node:zlib';
import {
  AddressRefusedError,
  hostOf,
  pinnedLookup,
  resolveVetted as resolveVettedHost,
  type LookupHost,
  type ResolvedAddress,
} from './vetted-http.js';

export type { LookupHost, ResolvedAddress } from './vetted-http.js';

/**
 * Fetches one upstream feed over node:http/https (not global fetch: we must choose the address a
 * socket connects to). Every hop is resolved here, vetted by the address guard, then connected to
 * that vetted address with Host/SNI kept as the hostname, so a DNS answer that changes between the
 * check and the connect (rebinding) cannot reach a private address. Never throws: every network
 * problem becomes an outcome the poller records on the source row.
 */

export interface FetchFeedOptions {
  etag?: string | null;
  lastModified?: string | null;
  userAgent: string;
  /** Budget for the whole fetch: DNS, connect, every redirect, headers and body. */
  timeoutMs: number;
  /** Cap on the body, counted both as received and after decompression. */
  maxBytes: number;
  maxRedirects: number;
  allowPrivate: boolean;
  /** Exact IPs allowed even when allowPrivate is false (see address-guard.ts). */
  allowedAddresses?: readonly string[];
  lookup?: LookupHost;
  /** Clock for Retry-After given as an HTTP-date. */
  now?: () => Date;
}

export type FetchErrorCode =
  | 'bad-url'
  | 'forbidden-address'
  | 'dns'
  | 'connection'
  | 'tls'
  | 'protocol'
  | 'timeout'
  | 'too-large'
  | 'too-many-redirects'
  | 'decoding'
  | 'http-status';

export type FetchOutcome =
  | {
      kind: 'ok';
      status: number;
      body: string;
      contentType: string | null;
      etag: string | null;
      lastModified: string | null;
      /** The URL the body came from, after redirects, without credentials. */
      finalUrl: string;
      /** Where the subscription should move: the end of the leading run of 301/308 redirects. */
      permanentRedirectTo?: string;
    }
  | { kind: 'not-modified'; permanentRedirectTo?: string }
  | { kind: 'gone' }
  | { kind: 'rate-limited'; status: 429 | 503; retryAfterSeconds?: number }
  | { kind: 'error'; code: FetchErrorCode; message: string; status?: number };

export const FEED_ACCEPT =
  'application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1';

class FetchFailure extends Error {
  constructor(
    readonly code: FetchErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const PERMANENT = new Set([301, 308]);

/** Fetches `url` with a conditional GET and hard limits; always resolves to an outcome. */
export async function fetchFeed(url: string, options: FetchFeedOptions): Promise<FetchOutcome> {
  const controller = new AbortController();
  // setTimeout treats anything over 2^31-1 ms as 1 ms: clamp so a huge budget stays huge.
  const timer = setTimeout(() => controller.abort(), Math.min(Math.max(options.timeoutMs, 0), 2_147_483_647));
  try {
    return await fetchWithRedirects(url, options, controller.signal);
  } catch (err) {
    if (controller.signal.aborted) {
      return { kind: 'error', code: 'timeout', message: `no complete response within ${options.timeoutMs} ms` };
    }
    const failure = toFailure(err);
    return {
      kind: 'error',
      code: failure.code,
      message: redactCredentials(failure.message),
      ...(failure.status === undefined ? {} : { status: failure.status }),
    };
  } finally {
    clearTimeout(timer);
  }
}

async function fetchWithRedirects(input: string, options: FetchFeedOptions, signal: AbortSignal): Promise<FetchOutcome> {
  const first = parseHttpUrl(input, 'feed URL');
  // Credentials in the URL go out as Basic auth to the original origin only, never to a redirect
  // target elsewhere, and never appear in finalUrl or a message.
  const credentials = takeCredentials(first);
  let url = first;
  const seen = new Set([url.href]);
  let permanentRedirectTo: string | undefined;
  let stillPermanent = true;

  for (let hop = 0; ; hop++) {
    const addresses = await resolveVetted(url, options, signal);
    const res = await sendRequest(url, addresses, buildHeaders(options, url.origin === first.origin ? credentials : null), signal);
    const status = res.statusCode ?? 0;

    if (REDIRECTS.has(status)) {
      res.destroy();
      const location = res.headers.location;
      if (!location) throw new FetchFailure('http-status', `${status} redirect without a Location header from ${url.href}`, status);
      const next = parseHttpUrl(location, 'redirect target', url);
      takeCredentials(next);
      if (hop >= options.maxRedirects) {
        throw new FetchFailure('too-many-redirects', `more than ${options.maxRedirects} redirects starting at ${first.href}`);
      }
      if (seen.has(next.href)) throw new FetchFailure('too-many-redirects', `redirect loop: ${url.href} → ${next.href}`);
      seen.add(next.href);
      stillPermanent &&= PERMANENT.has(status);
      if (stillPermanent) permanentRedirectTo = next.href;
      url = next;
      continue;
    }

    const moved = permanentRedirectTo === undefined ? {} : { permanentRedirectTo };
    if (status === 304) {
      res.destroy();
      return { kind: 'not-modified', ...moved };
    }
    if (status === 410) {
      res.destroy();
      return { kind: 'gone' };
    }
    const retryAfter = header(res, 'retry-after');
    // 503 counts as rate limiting only when the server says when to come back; otherwise it is an outage.
    if (status === 429 || (status === 503 && retryAfter !== null)) {
      res.destroy();
      const seconds = parseRetryAfter(retryAfter, (options.now ?? (() => new Date()))());
      return { kind: 'rate-limited', status, ...(seconds === undefined ? {} : { retryAfterSeconds: seconds }) };
    }
    if (status < 200 || status > 299) {
      res.destroy();
      throw new FetchFailure('http-status', `HTTP ${status} from ${url.href}`, status);
    }

    const bytes = await readBody(res, options.maxBytes, signal);
    const contentType = header(res, 'content-type');
    return {
      kind: 'ok',
      status,
      body: decodeBody(bytes, contentType),
      contentType,
      etag: header(res, 'etag'),
      lastModified: header(res, 'last-modified'),
      finalUrl: url.href,
      ...moved,
    };
  }
}

function parseHttpUrl(value: string, what: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(value.trim(), base);
  } catch {
    throw new FetchFailure('bad-url', `${what} is not a valid URL: ${redactCredentials(value).slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchFailure('bad-url', `${what} uses ${url.protocol}; only http and https are fetched`);
  }
  if (!url.hostname) throw new FetchFailure('bad-url', `${what} has no host`);
  return url;
}

/** Removes user:password from `url` in place and returns them decoded. */
function takeCredentials(url: URL): { user: string; password: string } | null {
  if (!url.username && !url.password) return null;
  const found = { user: safeDecode(url.username), password: safeDecode(url.password) };
  url.username = '';
  url.password = '';
  return found;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Removes `user:pass@` from anything that looks like a URL inside a message. */
export function redactCredentials(text: string): string {
  return text.replace(/(\/\/)[^/?#@\s]*@/g, '$1');
}

async function resolveVetted(url: URL, options: FetchFeedOptions, signal: AbortSignal): Promise<ResolvedAddress[]> {
  try {
    return await abortable(
      resolveVettedHost(hostOf(url), {
        allowPrivate: options.allowPrivate,
        allowedAddresses: options.allowedAddresses,
        lookup: options.lookup,
        who: 'the poller',
      }),
      signal,
    );
  } catch (err) {
    if (err instanceof AddressRefusedError) throw new FetchFailure(err.code, err.message);
    throw err;
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(new FetchFailure('timeout', 'aborted'));
    const onAbort = () => reject(new FetchFailure('timeout', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function buildHeaders(options: FetchFeedOptions, credentials: { user: string; password: string } | null): Record<string, string> {
  const headers: Record<string, string> = {
    'User-Agent': options.userAgent,
    Accept: FEED_ACCEPT,
    'Accept-Encoding': 'gzip, br, deflate',
  };
  // Validators come from an earlier response; a stored value with control characters would make
  // http.request throw, so such a value is simply not sent (the fetch becomes unconditional).
  if (options.etag && isHeaderSafe(options.etag)) headers['If-None-Match'] = options.etag;
  if (options.lastModified && isHeaderSafe(options.lastModified)) headers['If-Modified-Since'] = options.lastModified;
  if (credentials) {
    headers.Authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  }
  return headers;
}

function isHeaderSafe(value: string): boolean {
  return !/[\u0000-\u001f\u007f]/.test(value);
}

function sendRequest(
  url: URL,
  addresses: ResolvedAddress[],
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const host = hostOf(url);
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(
      {
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers,
        // A fresh socket per request: a pooled socket could outlive the address check it was made under.
        agent: false,
        lookup: pinnedLookup(addresses),
        // SNI must not carry an IP literal (RFC 6066 §3); certificate checks still use the hostname.
        ...(isIP(host) === 0 ? { servername: host } : {}),
        signal,
      },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
}

function header(res: http.IncomingMessage, name: string): string | null {
  const value = res.headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

/**
 * Reads the body into memory, stopping as soon as either the bytes received or the bytes after
 * decompression pass maxBytes (so a gzip bomb costs at most maxBytes plus one zlib chunk).
 */
async function readBody(res: http.IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const tooLarge = () => new FetchFailure('too-large', `body larger than ${maxBytes} bytes`);
  const onAbort = () => res.destroy(new FetchFailure('timeout', 'aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const declared = Number(header(res, 'content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();

    let received = 0;
    let stream: AsyncIterable<Buffer> = (async function* countReceived() {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > maxBytes) throw tooLarge();
        yield chunk;
      }
    })();
    for (const stage of decodingStages(header(res, 'content-encoding'))) stream = stage(stream);

    const chunks: Buffer[] = [];
    let decoded = 0;
    for await (const chunk of stream) {
      decoded += chunk.length;
      if (decoded > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, decoded);
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Also releases the socket when a decoder stopped early and left the response half read.
    res.destroy();
  }
}

type Stage = (source: AsyncIterable<Buffer>) => AsyncIterable<Buffer>;

/** Decoders for a Content-Encoding list, applied in reverse order of the header (RFC 9110 §8.4). */
function decodingStages(contentEncoding: string | null): Stage[] {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  return codings.reverse().map((coding) => {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return decodeWith(() => zlib.createGunzip());
      case 'br':
        return decodeWith(() => zlib.createBrotliDecompress());
      case 'deflate':
        // "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2), but old IIS and others send raw
        // deflate: look at the first bytes for a zlib header (CM=8, header checksum divisible by 31).
        return decodeWith((first) =>
          first.length >= 2 && (first[0]! & 0x0f) === 8 && ((first[0]! << 8) | first[1]!) % 31 === 0
            ? zlib.createInflate()
            : zlib.createInflateRaw(),
        );
      default:
        throw new FetchFailure('decoding', `unsupported Content-Encoding: ${coding}`);
    }
  });
}

/**
 * One decompression stage. The decoder is created on the first chunk, so an empty body stays empty
 * (zlib calls zero bytes a truncated stream). Output is pulled chunk by chunk, and zlib honours
 * backpressure, so the consumer's byte count stops a bomb before it inflates.
 */
function decodeWith(create: (first: Buffer) => Transform): Stage {
  return async function* decode(source) {
    const iterator = source[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) return;
    let sourceError: unknown;
    const input = Readable.from(
      (async function* () {
        try {
          yield first.value;
          for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
        } catch (err) {
          sourceError = err;
          throw err;
        }
      })(),
    );
    const decoder = create(first.value);
    pipeline(input, decoder, () => {
      // Errors surface through the iteration below.
    });
    try {
      yield* decoder as AsyncIterable<Buffer>;
    } catch (err) {
      if (sourceError !== undefined || err instanceof FetchFailure) throw sourceError ?? err;
      throw new FetchFailure('decoding', `cannot decode the body: ${(err as Error).message}`);
    }
  };
}

/**
 * Decodes the body to text. Precedence follows RFC 7303 §3: a byte order mark, then the charset
 * parameter of Content-Type, then the XML declaration, then UTF-8. Undeclared bytes that are not
 * valid UTF-8 are read as windows-1252, the usual culprit.
 */
export function decodeBody(bytes: Uint8Array, contentType: string | null): string {
  const bom = sniffBom(bytes);
  const declared = bom ?? charsetFromContentType(contentType) ?? charsetFromXmlDeclaration(bytes);
  if (declared) {
    const decoder = textDecoder(declared);
    if (decoder) return decoder.encoding === 'windows-1252' ? decodeWindows1252(bytes) : decoder.decode(bytes);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

function textDecoder(label: string): TextDecoder | null {
  try {
    // WHATWG maps iso-8859-1 and latin1 to windows-1252, which is what servers mean by them anyway.
    return new TextDecoder(label.trim().toLowerCase());
  } catch {
    return null; // an unknown label: fall back as if nothing was declared
  }
}

// WHATWG index-windows-1252 for 0x80–0x9F; the rest of the range is the same as Latin-1.
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/**
 * windows-1252 by hand: Node 20.18.3+ TextDecoder decodes it as Latin-1, turning smart quotes and
 * the euro sign into C1 control characters (nodejs/node#56542, #60888).
 */
function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

function sniffBom(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  return null;
}

function charsetFromContentType(contentType: string | null): string | null {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1] ?? null;
}

function charsetFromXmlDeclaration(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('latin1');
  const match = /^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(head);
  return match?.[1] ?? null;
}

/** Retry-After as seconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);

function toFailure(err: unknown): FetchFailure {
  if (err instanceof FetchFailure) return err;
  const code = String((err as NodeJS.ErrnoException | undefined)?.code ?? '');
  const message = err instanceof Error ? err.message : String(err);
  if (DNS_CODES.has(code)) return new FetchFailure('dns', `cannot resolve host: ${code}`);
  if (code === 'EPROTO' || /^(ERR_TLS|ERR_SSL|ERR_OSSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)) {
    return new FetchFailure('tls', `TLS failure: ${code} ${message}`.trim());
  }
  if (code.startsWith('HPE_')) return new FetchFailure('protocol', `malformed HTTP response: ${code}`);
  return new FetchFailure('connection', `connection failed: ${code || message}`);
}
