import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { PACKAGE_ROOT } from '../paths.js';
import { MIGRATIONS_DIR, migrationsHash } from './migrate.js';

/**
 * A new PGlite data directory costs an initdb of 3–7 s on this machine class. `npm run build` (and so
 * `npm ci`, through `prepare`) creates an initialised, migrated data directory once; the first start on
 * an empty DATA_DIR copies it with the file system and opens it. Loading a dump through PGlite's own
 * `loadDataDir` was measured at 1.2 s on one core: it writes every file through the emulated file
 * system.
 *
 * The copy is the first start's largest single cost after PGlite itself, so the template is kept
 * small (decision 0001):
 * - template0 and template1 are dropped. They exist to CREATE DATABASE, which PGlite (one single-user
 *   backend on one database) cannot use; they were 15 of 41 MB and 600 of 1,068 files. A CREATE
 *   DATABASE now fails with "template database "template1" does not exist" instead of a half-made
 *   database.
 * - trailing all-zero pages are not stored (the WAL segment is 16 MiB of which ~9 MiB are written);
 *   the copy extends each file back to its size, so the data directory is byte-for-byte the one
 *   PGlite closed, with the zeros as holes.
 * - a manifest lists every directory and file, so the copy does no directory walk and no per-file
 *   stat, and PG_VERSION (what marks a data directory as initialised) is written last: a copy cut
 *   short leaves a directory that still counts as empty and is copied again at the next start.
 */
const TEMPLATE_FORMAT = 2;
const MANIFEST = 'syndicate-template.json';
const PAGE = 8192;

interface Manifest {
  format: typeof TEMPLATE_FORMAT;
  dirs: string[];
  /** [path relative to the data directory, size, bytes stored in the template]. */
  files: Array<[string, number, number]>;
}

export function pgliteTemplateDir(hash = migrationsHash(), root = join(PACKAGE_ROOT, 'dist')): string {
  return join(root, `pglite-template-v${TEMPLATE_FORMAT}-${hash}`);
}

/** True when dataDir holds no database yet (PGlite writes PG_VERSION at initdb; the seed copies it last). */
export function isEmptyDataDir(dataDir: string): boolean {
  return !existsSync(join(dataDir, 'PG_VERSION'));
}

function readManifest(template: string): Manifest | null {
  try {
    const manifest = JSON.parse(readFileSync(join(template, MANIFEST), 'utf8')) as Manifest;
    return manifest.format === TEMPLATE_FORMAT ? manifest : null;
  } catch {
    return null;
  }
}

/**
 * Copies the build's template into an empty dataDir. Returns false (and copies nothing) when the
 * build made no template for the current migrations; PGlite then runs initdb as usual.
 */
export function seedDataDirFromTemplate(dataDir: string, template = pgliteTemplateDir()): boolean {
  const manifest = readManifest(template);
  if (!manifest) return false;
  for (const dir of manifest.dirs) mkdirSync(join(dataDir, dir), { recursive: true });
  const last = manifest.files.filter(([path]) => path === 'PG_VERSION');
  for (const [path, size, stored] of [...manifest.files.filter(([p]) => p !== 'PG_VERSION'), ...last]) {
    const to = join(dataDir, path);
    copyFileSync(join(template, path), to);
    if (size > stored) truncateSync(to, size);
  }
  return true;
}

/** Bytes of `path` up to its last page holding a non-zero byte. */
function storedLength(path: string, size: number): number {
  const fd = openSync(path, 'r');
  try {
    const page = Buffer.alloc(PAGE);
    for (let end = Math.ceil(size / PAGE) * PAGE; end > 0; end -= PAGE) {
      const start = end - PAGE;
      const n = readSync(fd, page, 0, PAGE, start);
      for (let i = 0; i < n; i++) if (page[i] !== 0) return Math.min(size, end);
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

function describe(dir: string): Manifest {
  const manifest: Manifest = { format: TEMPLATE_FORMAT, dirs: [], files: [] };
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(at, entry.name);
      const rel = relative(dir, path);
      if (entry.isDirectory()) {
        manifest.dirs.push(rel);
        walk(path);
      } else if (entry.isFile()) {
        const size = statSync(path).size;
        const stored = storedLength(path, size);
        if (stored < size) truncateSync(path, stored);
        manifest.files.push([rel, size, stored]);
      }
    }
  };
  walk(dir);
  return manifest;
}

/** Builds the migrated template directory and removes templates of older migration sets. */
export async function buildPgliteTemplate(root = join(PACKAGE_ROOT, 'dist'), migrationsFolder = MIGRATIONS_DIR): Promise<string> {
  const dir = pgliteTemplateDir(migrationsHash(migrationsFolder), root);
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const client = await PGlite.create({ dataDir: tmp });
  try {
    await migrate(drizzle(client), { migrationsFolder });
    for (const name of ['template0', 'template1']) {
      // Separate statements: DROP DATABASE refuses to run inside the implicit transaction of a batch.
      await client.exec(`alter database ${name} is_template false`);
      await client.exec(`drop database ${name}`);
    }
    await client.exec('checkpoint');
  } finally {
    await client.close();
  }
  writeFileSync(join(tmp, MANIFEST), JSON.stringify(describe(tmp)));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  for (const name of readdirSync(root)) {
    if (/^pglite-template-/.test(name) && join(root, name) !== dir) rmSync(join(root, name), { recursive: true, force: true });
  }
  return dir;
}
