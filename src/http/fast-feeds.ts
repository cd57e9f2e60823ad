import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { SnapshotCache, type SnapshotEntry } from '../feed-cache.js';
import type { FeedRuntime } from '../feed-runtime.js';
import type { Logger } from '../log.js';
import { HTTP_DURATION_BUCKETS, hotHistogramChild, type Metrics } from '../metrics.js';
import type { FeedFormat } from '../storage/feeds.js';
import { answerFeedRequest, type FeedAnswer } from './feed-response.js';
import type { ReaderTally } from '../reader-stats.js';
import { readerAddress } from './feed-stats.js';

/** Exactly `/feeds/{slug}.{rss|atom|json}` with no query string: the canonical, pre-rendered feeds. */
const CANONICAL_FEED = /^\/feeds\/([a-z0-9]+(?:-[a-z0-9]+)*)\.(rss|atom|json)$/;
const REQUEST_ID = /^[\w\-.:]{1,255}$/;
const ROUTE_LABEL = '/feeds/:file';

/** Parsed feed paths remembered (then the memo starts over): the paths readers poll are few. */
const MAX_PATHS = 4096;
/**
 * Request shapes (method, Accept-Encoding, If-None-Match, If-Modified-Since) whose answer is kept per
 * snapshot. Readers send a handful; beyond this many, answers are computed per request (a client
 * sending ever-new validators cannot grow memory).
 */
const MAX_SHAPES_PER_ENTRY = 16;

/** answerFeedRequest's answer, with its headers as the flat array writeHead takes and a slot for X-Request-Id. */
interface PreparedAnswer {
  status: 200 | 304;
  statusLabel: '200' | '304';
  /** [name, value, …] in answerFeedRequest's order, then 'X-Request-Id', <set per request>. */
  headers: string[];
  body: Uint8Array | null;
}

function prepare(answer: FeedAnswer): PreparedAnswer {
  const headers: string[] = [];
  for (const name of Object.keys(answer.headers)) headers.push(name, answer.headers[name]!);
  headers.push('X-Request-Id', '');
  return { status: answer.status, statusLabel: answer.status === 304 ? '304' : '200', headers, body: answer.body };
}

interface FeedPath {
  slug: string;
  format: FeedFormat;
  cacheKey: string;
}

/** A connection's last fast-path request, its answer and the reader tally it was counted in. */
interface LastRequest {
  url: string;
  path: FeedPath;
  entry: SnapshotEntry;
  method: string;
  acceptEncoding: string | undefined;
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
  userAgent: string | undefined;
  /** Only read when X-Forwarded-For is trusted (it is then the reader's address). */
  forwardedFor: string | string[] | undefined;
  answer: PreparedAnswer;
  tally: ReaderTally | null;
}

/** Distinguishes an absent header from an empty one (answerFeedRequest treats them differently). */
function part(value: string | undefined): string {
  return value === undefined ? '\u0001' : value;
}

/**
 * The hot path: a GET or HEAD for a canonical feed whose snapshot is in memory is answered straight
 * from node:http, without building a web Request/Response pair for the router. It gives the same
 * answer the router gives (the same answerFeedRequest); anything else — a miss, a query string, any
 * other path — goes to the full application. Measured in bench/ against a bare node:http server.
 *
 * Per request it does only what varies: the answer for a snapshot and request shape is computed
 * once by answerFeedRequest and reused while that snapshot is current (a changed feed is a new
 * SnapshotEntry object, so the WeakMap drops the old answers with it), headers go to writeHead as a
 * flat array, and the counters are summed locally and added to the prom-client metrics whenever
 * they are read (a scrape sees every request); so is the latency histogram (hotHistogramChild).
 * Each connection remembers its last request, its answer and the reader tally it was counted in, so
 * a keep-alive poller repeating itself (a CDN edge, an aggregator) costs a few string comparisons:
 * no path parse, no shape key, no tally key, one WeakMap lookup. The memo holds at most one
 * snapshot per open connection and goes with the connection.
 */
export function createFastFeedListener(
  feeds: FeedRuntime,
  deps: {
    metrics: Metrics;
    log: Logger;
    /** Reader statistics (issue 7): each answered request adds one to a tally in memory (no I/O). */
    readers?: {
      count(feedKey: string, format: string, address: string | undefined, userAgent: string | undefined): ReaderTally | null;
      countAgain(tally: ReaderTally): boolean;
    };
    config?: { STATS_TRUST_FORWARDED_FOR: boolean };
  },
  fallback: RequestListener,
): RequestListener {
  const { metrics, log, readers } = deps;
  const trustForwarded = deps.config?.STATS_TRUST_FORWARDED_FOR ?? false;
  // Per-request access logs for memory hits only at debug level: at tens of thousands of requests a
  // second the log line would cost more than the answer (metrics still count every request).
  const logHits = log.isLevelEnabled('debug');
  const cacheControl = feeds.cacheControl;
  const paths = new Map<string, FeedPath | null>();
  const answers = new WeakMap<SnapshotEntry, Map<string, PreparedAnswer>>();
  // Keyed by socket rather than a property on it: measured, adding properties to sockets slowed every request.
  const lastRequest = new WeakMap<object, LastRequest>();

  // Counters summed here and flushed into prom-client whenever a metric is read: prom-client calls a
  // metric's collect() before every get(), so /metrics and get() see every request.
  let hits = 0;
  let notModified = 0;
  const requests = new Map<string, { method: string; status: string; count: number }>();
  const flush = () => {
    if (hits > 0) {
      metrics.snapshotCache.inc({ result: 'hit' }, hits);
      hits = 0;
    }
    if (notModified > 0) {
      metrics.notModified.inc(notModified);
      notModified = 0;
    }
    for (const r of requests.values()) {
      if (r.count === 0) continue;
      metrics.httpRequests.inc({ method: r.method, route: ROUTE_LABEL, status: r.status }, r.count);
      r.count = 0;
    }
  };
  for (const metric of [metrics.snapshotCache, metrics.notModified, metrics.httpRequests] as unknown as { collect?: () => unknown }[]) {
    const previous = metric.collect;
    metric.collect = function collect(this: unknown) {
      flush();
      return previous?.call(this);
    };
  }
  const durations = {
    GET: hotHistogramChild(metrics.httpDuration, HTTP_DURATION_BUCKETS, { method: 'GET', route: ROUTE_LABEL }),
    HEAD: hotHistogramChild(metrics.httpDuration, HTTP_DURATION_BUCKETS, { method: 'HEAD', route: ROUTE_LABEL }),
  };
  // Request ids: a random per-process prefix and a counter, unique across instances and far cheaper
  // than a UUID per request. 5 + 1 + up to 6 base-36 digits (2 billion requests) stays under V8's
  // 13 characters for a flat string: a longer one is a two-part string that Node's header check
  // (a regex) must first copy, measured at ~75 ns more per request.
  const idPrefix = randomUUID().slice(0, 5);
  let idCounter = 0;

  const parsePath = (url: string) => {
    let parsed = paths.get(url);
    if (parsed === undefined) {
      const match = CANONICAL_FEED.exec(url);
      parsed = match ? { slug: match[1]!, format: match[2] as FeedFormat, cacheKey: SnapshotCache.key(match[1]!, match[2] as FeedFormat) } : null;
      if (paths.size >= MAX_PATHS) paths.clear();
      paths.set(url, parsed);
    }
    return parsed;
  };

  /** The answer to a request the connection's last request does not match; remembers it on the connection. */
  const answerAnew = (socket: object, url: string, path: FeedPath, entry: SnapshotEntry, request: Omit<LastRequest, 'url' | 'path' | 'entry' | 'answer' | 'tally'>, address: () => string | undefined): LastRequest => {
    const { method, acceptEncoding, ifNoneMatch, ifModifiedSince } = request;
    const shape = `${method}\u0000${part(acceptEncoding)}\u0000${part(ifNoneMatch)}\u0000${part(ifModifiedSince)}`;
    let shapes = answers.get(entry);
    let answer = shapes?.get(shape);
    if (answer === undefined) {
      answer = prepare(answerFeedRequest(entry, { method, acceptEncoding, ifNoneMatch, ifModifiedSince }, cacheControl));
      if (shapes === undefined) answers.set(entry, (shapes = new Map()));
      if (shapes.size < MAX_SHAPES_PER_ENTRY) shapes.set(shape, answer);
    }
    const tally = readers === undefined ? null : readers.count(path.slug, path.format, address(), request.userAgent);
    const last: LastRequest = { url, path, entry, ...request, answer, tally };
    lastRequest.set(socket, last);
    return last;
  };

  return (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method;
    const url = req.url;
    if ((method === 'GET' || method === 'HEAD') && url !== undefined && url.startsWith('/feeds/')) {
      const started = performance.now();
      const headers = req.headers;
      const acceptEncoding = headers['accept-encoding'];
      const ifNoneMatch = headers['if-none-match'];
      const ifModifiedSince = headers['if-modified-since'];
      const userAgent = headers['user-agent'];
      const forwardedFor = trustForwarded ? headers['x-forwarded-for'] : undefined;
      const socket = req.socket;
      // A keep-alive client asks the same thing again and again: compare with its last request first
      // (string and identity checks) before parsing the path or building and hashing a shape key.
      let last = lastRequest.get(socket);
      let counted = false;
      if (
        last !== undefined &&
        last.url === url &&
        last.method === method &&
        last.acceptEncoding === acceptEncoding &&
        last.ifNoneMatch === ifNoneMatch &&
        last.ifModifiedSince === ifModifiedSince &&
        last.userAgent === userAgent &&
        last.forwardedFor === forwardedFor &&
        feeds.cache.getByKey(last.path.cacheKey) === last.entry
      ) {
        counted = last.tally !== null && readers!.countAgain(last.tally);
      } else {
        const path = parsePath(url);
        const entry = path ? feeds.cache.getByKey(path.cacheKey) : undefined;
        if (path === null || entry === undefined) {
          fallback(req, res);
          return;
        }
        const request = { method, acceptEncoding, ifNoneMatch, ifModifiedSince, userAgent, forwardedFor };
        try {
          last = answerAnew(socket, url, path, entry, request, () => readerAddress(socket.remoteAddress, forwardedFor, trustForwarded));
        } catch {
          // An answer that cannot be built (an identity body that will not decode) is the router's to
          // report as a problem response: thrown here, it would take the process down.
          fallback(req, res);
          return;
        }
        counted = true;
      }
      const answer = last.answer;
      const incomingId = headers['x-request-id'];
      const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : `${idPrefix}-${(++idCounter).toString(36)}`;
      // writeHead serialises the headers at once and keeps no reference: the array is reused.
      answer.headers[answer.headers.length - 1] = requestId;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      // A drain took the remembered tally since the last request: count this one in a new tally.
      if (!counted && readers !== undefined) {
        last.tally = readers.count(last.path.slug, last.path.format, readerAddress(socket.remoteAddress, forwardedFor, trustForwarded), userAgent);
      }
      hits += 1;
      if (answer.status === 304) notModified += 1;
      const key = method === 'GET' ? (answer.status === 304 ? 'GET 304' : 'GET 200') : answer.status === 304 ? 'HEAD 304' : 'HEAD 200';
      let counter = requests.get(key);
      if (counter === undefined) requests.set(key, (counter = { method, status: answer.statusLabel, count: 0 }));
      counter.count += 1;
      const seconds = (performance.now() - started) / 1000;
      durations[method](seconds);
      if (logHits) log.debug({ requestId, method, path: url, status: answer.status, durationMs: seconds * 1000 }, 'request');
      return;
    }
    fallback(req, res);
  };
}
