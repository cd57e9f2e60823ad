import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { sql as sqlTag, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { preparingStatements } from './prepared-statements.js';
import { isEmptyDataDir, seedDataDirFromTemplate } from './pglite-template.js';
import * as schema from './schema.js';

/** drizzle's shared base type: a union of the two driver types breaks `.returning()` in the checker. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DbHandle {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Subscribes to a NOTIFY channel; resolves to an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Runs fn holding a cluster-wide session advisory lock (a no-op guard on PGlite: one process per data dir). */
  withSessionLock<T>(key: number, fn: () => Promise<T>): Promise<T>;
  /**
   * Runs fn only if no other session holds the advisory lock `key` (leader election for cron ticks).
   * PGlite has one process per data dir, so there it always runs.
   */
  withTryLock<T>(key: number, fn: () => Promise<T>): Promise<{ acquired: true; result: T } | { acquired: false }>;
  close(): Promise<void>;
  /**
   * True when this open created the database from the build's migrated template (PGlite, empty
   * DATA_DIR): it holds exactly the committed migrations, so there is nothing to migrate.
   */
  fromTemplate: boolean;
  /** The raw driver, for the rare statement drizzle cannot express. */
  raw: { kind: 'pglite'; client: PGlite } | { kind: 'postgres'; client: postgres.Sql };
}

/** db.execute returns an array on postgres.js and `{ rows }` on PGlite: one place hides that. */
export async function queryRows<T extends Record<string, unknown>>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export interface OpenDbOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolMax?: number;
  /** Postgres only: prepare the statements drizzle sends (default true; see prepared-statements.ts). */
  preparedStatements?: boolean;
  /** PGlite only: start from this data-dir dump (tests start from a migrated template). */
  pgliteTemplate?: Blob;
  /** PGlite only: shared_buffers, a PostgreSQL size such as 16MB (PostgreSQL's default when absent). */
  pgliteSharedBuffers?: string | undefined;
}

/** Opens Postgres (postgres.js) when a URL is given, else embedded PGlite under dataDir (or memory://). */
export async function openDb(options: OpenDbOptions): Promise<DbHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolMax ?? 10, options.preparedStatements ?? true);
  return openPglite(options.dataDir, options.pgliteTemplate, options.pgliteSharedBuffers);
}

async function openPostgres(url: string, max: number, preparedStatements: boolean): Promise<DbHandle> {
  // TimeZone pinned to UTC: drizzle parses timestamptz text with `new Date()`, which cannot read the
  // local-mean-time offsets ("-00:01:15") a server in Europe/London prints for dates before 1847.
  const client = postgres(url, { max, onnotice: () => {}, connection: { application_name: 'syndicate', TimeZone: 'UTC' } });
  const db = drizzlePostgres(preparedStatements ? preparingStatements(client) : client, { schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    fromTemplate: false,
    raw: { kind: 'postgres', client },
    async listen(channel, onPayload) {
      const sub = await client.listen(channel, onPayload);
      return () => sub.unlisten();
    },
    async withSessionLock(key, fn) {
      // A session lock must be taken and released on the same connection: reserve one. Through the
      // pool, the unlock can run on another connection and the lock leaks.
      const reserved = await client.reserve();
      try {
        await reserved`select pg_advisory_lock(${key})`;
        try {
          return await fn();
        } finally {
          await reserved`select pg_advisory_unlock(${key})`;
        }
      } finally {
        reserved.release();
      }
    },
    async withTryLock(key, fn) {
      // Session lock on a reserved connection: taken and released on the same backend, and released
      // by the server if this process dies mid-tick.
      const reserved = await client.reserve();
      try {
        const [row] = await reserved<{ locked: boolean }[]>`select pg_try_advisory_lock(${key}) as locked`;
        if (!row?.locked) return { acquired: false };
        try {
          return { acquired: true, result: await fn() };
        } finally {
          await reserved`select pg_advisory_unlock(${key})`;
        }
      } finally {
        reserved.release();
      }
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/** V8's default is 1,800,000; see openPglite. */
const WASM_TIERING_BUDGET = 200_000_000;

async function openPglite(dataDir: string, template?: Blob, sharedBuffers?: string): Promise<DbHandle> {
  const inMemory = dataDir === 'memory://' || dataDir === '';
  let releaseLock = () => {};
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true });
    releaseLock = lockDataDir(dataDir);
  }
  // A new data dir starts as a copy of the build's migrated template when there is one (instead of an
  // initdb of several seconds). The template is named by the hash of migrations/, so the one found
  // holds exactly this build's migrations (fromTemplate: the service skips the migration run).
  const fromTemplate = !inMemory && !template && isEmptyDataDir(dataDir) && seedDataDirFromTemplate(dataDir);
  // V8 re-compiles a WebAssembly function with its optimising compiler once it has run enough, on
  // background threads. PostgreSQL's start-up runs enough of its 9 MB to queue hundreds of those jobs,
  // and on one core they starve the main thread: ~0.35 s of a first start to the first feed went to
  // them (decision 0001). A later tier-up (a larger budget) leaves start-up to the baseline compiler;
  // measured on a PGlite insert/query workload, steady state within 0-7 % (run-to-run noise 5 %).
  // 5,000,000 at first; 50,000,000 since decision 0011 (first feed ~0.2-0.4 s sooner, the same
  // ingest, refresh and read workload within its run-to-run spread); 200,000,000 since (first feed
  // ~0.1 s sooner again, and the workload no slower: decision 0011's addendum).
  // Set before the module is compiled, so it applies to PGlite only in practice.
  setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
  let client: PGlite;
  try {
    client = await PGlite.create({
      ...(inMemory ? {} : { dataDir }),
      ...(template ? { loadDataDir: template } : {}),
      // startParams replaces PGlite's own list, so it is extended, not replaced.
      ...(sharedBuffers ? { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`] } : {}),
    });
  } catch (err) {
    releaseLock();
    throw err;
  }
  fastPgliteBytea(client);
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    db,
    kind: 'pglite',
    fromTemplate,
    raw: { kind: 'pglite', client },
    async listen(channel, onPayload) {
      return client.listen(channel, onPayload);
    },
    async withSessionLock(_key, fn) {
      return fn();
    },
    async withTryLock(_key, fn) {
      return { acquired: true, result: await fn() };
    },
    async close() {
      try {
        await client.close();
      } finally {
        releaseLock();
      }
    },
  };
}

const BYTEA_OID = 17;

/**
 * PGlite sends a bytea parameter as hex text built one byte at a time (Array.from → toString(16) →
 * join) and reads one back with a parseInt per byte. Storing one rendered feed (body, gzip and
 * brotli, ~200 KB) cost ~1 s of CPU that way. Its wire writer already sends any typed array as a
 * binary parameter, which for bytea is the bytes themselves, so the serializer hands byte arrays
 * through; the parser decodes hex natively. Other values keep PGlite's own conversions.
 */
function fastPgliteBytea(client: PGlite): void {
  const serialize = client.serializers[BYTEA_OID];
  // The declared type says string; PGlite's bind message writes an ArrayBufferView as binary.
  client.serializers[BYTEA_OID] = ((value: unknown) =>
    ArrayBuffer.isView(value) ? value : serialize ? serialize(value) : String(value)) as (value: unknown) => string;
  const parse = client.parsers[BYTEA_OID];
  client.parsers[BYTEA_OID] = (value: string, typeId?: number) =>
    value.startsWith('\\x') ? Buffer.from(value.slice(2), 'hex') : parse ? parse(value, typeId) : value;
}

/**
 * Two processes on one PGlite data dir raise no error and lose writes: hold a lock file with our PID,
 * taking it over only when the PID in it is no longer alive.
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, 'syndicate.lock');
  try {
    writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number(readFileSync(lockPath, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `DATA_DIR ${dataDir} is in use by process ${holder}; PGlite allows one process per data directory (use DATABASE_URL for several instances)`,
      );
    }
    writeFileSync(lockPath, String(process.pid));
  }
  return () => rmSync(lockPath, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SELECT 1: the database answers. */
export async function pingDb(db: Database): Promise<void> {
  await db.execute(sqlTag`select 1`);
}
