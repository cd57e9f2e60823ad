import postgres from 'postgres';
import { migrationsHash } from '../../src/storage/migrate.js';
import { onCleanup } from './proc.js';

/** Where the bench finds Postgres (an admin connection: it creates and drops its own databases). */
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function dbUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export function adminSql(): postgres.Sql {
  return postgres(ADMIN_URL, { max: 2, onnotice: () => {}, connect_timeout: 5, idle_timeout: 5 });
}

/** True when Postgres answers at ADMIN_URL. */
export async function postgresAvailable(): Promise<boolean> {
  const sql = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 3 });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }
}

/** A kept database is reused only while it matches the migrations' hash. */
export { migrationsHash };

const TEMP_PREFIX = 'syndicate_bench_tmp_';

/**
 * A new empty database for one scenario, dropped at the end of the run (and, if the run was killed,
 * at the start of the next one).
 */
export async function createTempDatabase(admin: postgres.Sql, label: string): Promise<{ name: string; url: string }> {
  const name = `${TEMP_PREFIX}${process.pid}_${label}`;
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  onCleanup(async () => {
    const sql = adminSql();
    try {
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await sql.end({ timeout: 2 });
    }
  });
  return { name, url: dbUrl(name) };
}

/** Drops temporary databases left by an earlier run that was killed (its process is gone). */
export async function dropStaleTempDatabases(admin: postgres.Sql): Promise<string[]> {
  const rows = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${`${TEMP_PREFIX}%`}`;
  const dropped: string[] = [];
  for (const { datname } of rows) {
    const pid = Number(datname.slice(TEMP_PREFIX.length).split('_')[0]);
    if (pid === process.pid) continue;
    let alive = Number.isInteger(pid) && pid > 0;
    try {
      if (alive) process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive) continue;
    await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    dropped.push(datname);
  }
  return dropped;
}

/**
 * The postmaster's pid of the Postgres server at ADMIN_URL, when it runs on this machine and this
 * process may read its postmaster.pid; null otherwise.
 */
export async function postgresPostmaster(admin: postgres.Sql): Promise<number | null> {
  try {
    const [row] = await admin<{ setting: string }[]>`select setting from pg_settings where name = 'data_directory'`;
    const { readFile } = await import('node:fs/promises');
    const pid = Number((await readFile(`${row!.setting}/postmaster.pid`, 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
