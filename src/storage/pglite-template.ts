import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { MIGRATIONS_DIR, migrationsHash } from './migrate.js';

/**
 * A new PGlite data directory costs an initdb of 3–7 s on this machine class; copying in a dump of an
 * already initialised and migrated database costs about 1 s. `npm run build` (and so `npm ci`, through
 * `prepare`) writes that dump once; the first start on an empty DATA_DIR loads it.
 */
const TEMPLATE_DIR = fileURLToPath(new URL('../../dist/', import.meta.url));

export function pgliteTemplatePath(hash = migrationsHash()): string {
  return join(TEMPLATE_DIR, `pglite-template-${hash}.tar`);
}

/** The template for the current migrations, if the build made one. */
export function readPgliteTemplate(): Blob | undefined {
  const path = pgliteTemplatePath();
  return existsSync(path) ? new Blob([readFileSync(path)]) : undefined;
}

/** True when dataDir holds no database yet (PGlite writes PG_VERSION at initdb). */
export function isEmptyDataDir(dataDir: string): boolean {
  return !existsSync(join(dataDir, 'PG_VERSION'));
}

/** Builds the migrated template and removes templates of older migration sets. */
export async function buildPgliteTemplate(): Promise<string> {
  const hash = migrationsHash();
  const path = pgliteTemplatePath(hash);
  const client = await PGlite.create();
  try {
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
    const dump = await client.dumpDataDir('none');
    mkdirSync(TEMPLATE_DIR, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, path);
  } finally {
    await client.close();
  }
  for (const name of readdirSync(TEMPLATE_DIR)) {
    if (/^pglite-template-[0-9a-f]+\.tar(\.gz)?$/.test(name) && !path.endsWith(name)) rmSync(join(TEMPLATE_DIR, name), { force: true });
  }
  return path;
}
