import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { PACKAGE_ROOT } from '../paths.js';
import { queryRows, type Database, type DbHandle } from './db.js';

export const MIGRATIONS_DIR = join(PACKAGE_ROOT, 'migrations');

/** Arbitrary constant key for the migration advisory lock ("syndmig" in ASCII-ish). */
const MIGRATION_LOCK_KEY = 0x73796e64;

/**
 * Applies the committed SQL migrations. drizzle's migrator takes no lock, and several instances
 * starting together on an empty Postgres collide on duplicate keys: hold an advisory lock around it.
 */
export async function migrateDb(handle: DbHandle, migrationsFolder = MIGRATIONS_DIR): Promise<void> {
  await handle.withSessionLock(MIGRATION_LOCK_KEY, async () => {
    if (handle.kind === 'pglite') {
      await migratePglite(handle.db as unknown as PgliteDatabase<Record<string, unknown>>, { migrationsFolder });
    } else {
      await migratePostgres(handle.db as unknown as PostgresJsDatabase<Record<string, unknown>>, { migrationsFolder });
    }
  });
}

/** Number of migrations committed under migrations/ (from drizzle-kit's journal). */
export function expectedMigrationCount(migrationsFolder = MIGRATIONS_DIR): number {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** True when every committed migration has been applied to this database. */
export async function migrationsApplied(db: Database, expected = expectedMigrationCount()): Promise<boolean> {
  try {
    const rows = await queryRows<{ n: number | string }>(
      db,
      sql`select count(*) as n from drizzle.__drizzle_migrations`,
    );
    return Number(rows[0]?.n ?? 0) >= expected;
  } catch {
    return false;
  }
}

/** Short hash of everything under migrations/: names a database template built from exactly these. */
export function migrationsHash(migrationsFolder = MIGRATIONS_DIR): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(entry.name).update(readFileSync(path));
    }
  };
  walk(migrationsFolder);
  return hash.digest('hex').slice(0, 12);
}
