import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { openDb, type DbHandle } from '../../src/storage/db.js';
import { migrateDb, migrationsHash } from '../../src/storage/migrate.js';

/**
 * A fresh, migrated database per test file, built with the real migrations: on Postgres when
 * TEST_DATABASE_URL (or DATABASE_URL) is set, else embedded PGlite. Both start from a migrated template
 * (cached by a hash of migrations/), so each file pays a copy, not a migration run.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
export const DB_KIND: 'postgres' | 'pglite' = TEST_DATABASE_URL ? 'postgres' : 'pglite';

const CACHE_DIR = join(process.cwd(), 'node_modules', '.cache', 'syndicate-tests');

async function pgliteTemplate(): Promise<Blob> {
  const file = join(CACHE_DIR, `pglite-${migrationsHash()}.tar`);
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const handle = await openDb({ dataDir: 'memory://' });
  try {
    await migrateDb(handle);
    if (handle.raw.kind !== 'pglite') throw new Error('expected PGlite');
    const dump = await handle.raw.client.dumpDataDir('none');
    const bytes = Buffer.from(await dump.arrayBuffer());
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written under a temporary name and renamed, so a parallel worker never reads half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
    return new Blob([bytes]);
  } finally {
    await handle.close();
  }
}

async function postgresTemplate(admin: postgres.Sql): Promise<string> {
  const name = `syndicate_tpl_${migrationsHash()}`;
  // One worker builds the template; the others wait on the lock and find it built.
  await admin`select pg_advisory_lock(7788)`;
  try {
    const exists = await admin`select 1 from pg_database where datname = ${name}`;
    if (exists.length === 0) {
      await admin.unsafe(`create database "${name}"`);
      const url = new URL(TEST_DATABASE_URL!);
      url.pathname = `/${name}`;
      const handle = await openDb({ databaseUrl: url.toString(), dataDir: '' });
      try {
        await migrateDb(handle);
      } finally {
        await handle.close();
      }
    }
  } finally {
    await admin`select pg_advisory_unlock(7788)`;
  }
  return name;
}

export interface TestDb {
  handle: DbHandle;
  /** The connection URL of this file's own database (Postgres only). */
  url?: string;
  close(): Promise<void>;
}

export async function createTestDb(): Promise<TestDb> {
  if (!TEST_DATABASE_URL) {
    const handle = await openDb({ dataDir: 'memory://', pgliteTemplate: await pgliteTemplate() });
    return { handle, close: () => handle.close() };
  }
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  const template = await postgresTemplate(admin);
  const name = `syndicate_test_${randomBytes(6).toString('hex')}`;
  await admin.unsafe(`create database "${name}" template "${template}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = await openDb({ databaseUrl: url.toString(), dataDir: '', poolMax: 5 });
  return {
    handle,
    url: url.toString(),
    async close() {
      await handle.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}
