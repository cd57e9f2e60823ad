import { gunzipSync } from 'node:zlib';
import type { FeedFormat } from './storage/feeds.js';

export type Encoding = 'identity' | 'gzip' | 'br';

/** A feed representation ready to serve: bytes per content-coding, validators precomputed. */
export interface SnapshotEntry {
  feedKey: string;
  format: FeedFormat;
  /**
   * Bytes per content-coding. Entries in the snapshot cache (and loaded for it) carry gzip and br
   * only: identity is ~9× gzip's size for a feed and nearly every reader asks for gzip or br, so
   * leaving it out fits ~6× more feeds in the same memory; identityBody() decodes it from gzip for
   * the few that ask.
   */
  bodies: { identity?: Uint8Array; gzip: Uint8Array; br: Uint8Array };
  /** Byte length of the identity body (the Content-Length of an identity HEAD, without decoding). */
  identityLength: number;
  etags: Record<Encoding, string>;
  lastModified: Date;
  /** Last-Modified in IMF-fixdate, computed once. */
  lastModifiedHttp: string;
  itemCount: number;
  /** feed_snapshots.seq (0 for on-demand parameterised renders). */
  seq: number;
  /** The HTTP Link header (WebSub §4: rel=hub for each hub, rel=self = the URL served), when known. */
  link?: string;
}

/** A snapshot as rendered: every coding's bytes, identity included (what is stored in feed_snapshots). */
export type RenderedSnapshot = SnapshotEntry & { bodies: Record<Encoding, Uint8Array> };

export function entrySize(entry: SnapshotEntry): number {
  return (entry.bodies.identity?.byteLength ?? 0) + entry.bodies.gzip.byteLength + entry.bodies.br.byteLength;
}

/**
 * Identity bodies decoded from gzip, oldest first, bounded in bytes. A decode costs ~1 ms for a
 * 280 KB feed: without this a client sending no Accept-Encoding (and ever-new validators, so no
 * answer memo helps) could buy a millisecond of CPU per request. With it, one decode per snapshot
 * while it stays among the recently asked.
 */
const DECODED_MAX_BYTES = 16 * 1024 * 1024;
const decoded = new Map<SnapshotEntry, Uint8Array>();
let decodedBytes = 0;

/** The identity body: kept by the entry, or decoded from gzip (once per snapshot, see `decoded`). */
export function identityBody(entry: SnapshotEntry): Uint8Array {
  if (entry.bodies.identity !== undefined) return entry.bodies.identity;
  let body = decoded.get(entry);
  if (body === undefined) {
    body = gunzipSync(entry.bodies.gzip);
    decoded.set(entry, body);
    decodedBytes += body.byteLength;
    for (const [oldest, bytes] of decoded) {
      if (decodedBytes <= DECODED_MAX_BYTES) break;
      decoded.delete(oldest);
      decodedBytes -= bytes.byteLength;
    }
  }
  return body;
}

/** The entry as the cache keeps it: without its identity body. */
function compressedOnly(entry: SnapshotEntry): SnapshotEntry {
  if (entry.bodies.identity === undefined) return entry;
  return { ...entry, bodies: { gzip: entry.bodies.gzip, br: entry.bodies.br } };
}

/**
 * Per-instance memory copy of snapshots, bounded in bytes: a thousand category feeds in three formats
 * do not fit in memory, the popular ones do. Eviction is "second chance" (CLOCK): a hit only sets a
 * flag, and eviction skips (and clears) flagged entries once. A strict LRU re-inserted the entry on
 * every hit, which showed up in the serving profile (bench/).
 */
export class SnapshotCache {
  private readonly entries = new Map<string, SnapshotEntry>();
  private readonly used = new WeakSet<SnapshotEntry>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  static key(feedKey: string, format: FeedFormat): string {
    return `${feedKey}.${format}`;
  }

  get(feedKey: string, format: FeedFormat): SnapshotEntry | undefined {
    return this.getByKey(SnapshotCache.key(feedKey, format));
  }

  /** get() by a key made once with SnapshotCache.key: the hot path keeps it per path, saving a concatenation and a hash per request. */
  getByKey(key: string): SnapshotEntry | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.used.add(entry);
    return entry;
  }

  /** Keeps `entry` without its identity body (see SnapshotEntry.bodies). */
  set(rendered: SnapshotEntry): void {
    const entry = compressedOnly(rendered);
    const key = SnapshotCache.key(entry.feedKey, entry.format);
    this.delete(entry.feedKey, entry.format);
    const size = entrySize(entry);
    if (size > this.maxBytes) return;
    this.entries.set(key, entry);
    this.bytes += size;
    // Oldest first; a recently used entry moves to the back once instead of going. Bounded: after one
    // pass every flag is clear, so the second pass evicts.
    let budget = this.entries.size * 2;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes || budget-- <= 0) break;
      this.entries.delete(k);
      if (e === entry || this.used.has(e)) {
        // The entry being added is never its own victim; a used one goes to the back, flag cleared.
        this.used.delete(e);
        this.entries.set(k, e);
      } else {
        this.bytes -= entrySize(e);
      }
    }
  }

  delete(feedKey: string, format: FeedFormat): void {
    const key = SnapshotCache.key(feedKey, format);
    const existing = this.entries.get(key);
    if (existing) {
      this.entries.delete(key);
      this.bytes -= entrySize(existing);
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
