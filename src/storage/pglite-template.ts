import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { MIGRATIONS_DIR, migrationsHash } from './migrate.js';

/**
 * A new PGlite data directory costs an initdb of 3–7 s on this machine class. `npm run build` (and so
 * `npm ci`, through `prepare`) creates an initialised, migrated data directory once; the first start on
 * an empty DATA_DIR copies it with the file system (about 0.1 s) and opens it. Loading a dump through
 * PGlite's own `loadDataDir` was measured at 1.2 s on one core: it writes every file through the
 * emulated file system.
 */
const TEMPLATE_ROOT = fileURLToPath(new URL('../../dist/', import.meta.url));

export function pgliteTemplateDir(hash = migrationsHash()): string {
  return join(TEMPLATE_ROOT, `pglite-template-${hash}`);
}

/** True when dataDir holds no database yet (PGlite writes PG_VERSION at initdb). */
export function isEmptyDataDir(dataDir: string): boolean {
  return !existsSync(join(dataDir, 'PG_VERSION'));
}

/**
 * Copies the build's template into an empty dataDir. Returns false (and copies nothing) when the
 * build made no template for the current migrations; PGlite then runs initdb as usual.
 */
export function seedDataDirFromTemplate(dataDir: string): boolean {
  const template = pgliteTemplateDir();
  if (!existsSync(join(template, 'PG_VERSION'))) return false;
  cpSync(template, dataDir, { recursive: true, force: false, errorOnExist: false });
  return true;
}

/** Builds the migrated template directory and removes templates of older migration sets. */
export async function buildPgliteTemplate(): Promise<string> {
  const hash = migrationsHash();
  const dir = pgliteTemplateDir(hash);
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const client = await PGlite.create({ dataDir: tmp });
  try {
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.close();
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  for (const name of readdirSync(TEMPLATE_ROOT)) {
    if (/^pglite-template-[0-9a-f]+(\.tar(\.gz)?)?$/.test(name) && join(TEMPLATE_ROOT, name) !== dir) {
      rmSync(join(TEMPLATE_ROOT, name), { recursive: true, force: true });
    }
  }
  return dir;
}
