import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, queryRows, type Database, type DbHandle } from '../../src/storage/db.js';
import { MAX_PREPARED_PARAMETERS, MAX_PREPARED_STATEMENTS } from '../../src/storage/prepared-statements.js';
import { categories } from '../../src/storage/schema.js';
import { createTestDb, DB_KIND, type TestDb } from '../helpers/db.js';

/**
 * On Postgres, drizzle's queries go as prepared statements within the limits of
 * src/storage/prepared-statements.ts. Read back from pg_prepared_statements, which lists what the
 * session (the pool's one connection here) has prepared.
 */
describe.skipIf(DB_KIND !== 'postgres')('prepared statements (postgres)', () => {
  let t: TestDb;
  let handle: DbHandle;
  let unprepared: DbHandle;

  beforeAll(async () => {
    t = await createTestDb();
    handle = await openDb({ databaseUrl: t.url!, dataDir: '', poolMax: 1 });
    unprepared = await openDb({ databaseUrl: t.url!, dataDir: '', poolMax: 1, preparedStatements: false });
  });
  afterAll(async () => {
    await unprepared?.close();
    await handle?.close();
    await t?.close();
  });

  const prepared = async (db: Database) =>
    (await queryRows<{ statement: string }>(db, sql`select statement from pg_prepared_statements`)).map((r) => r.statement);

  it('prepares a query with parameters, once per connection, and answers it right', async () => {
    const marker = 'prepared-statements-1';
    for (let i = 0; i < 3; i++) {
      const rows = await handle.db.select({ id: categories.id }).from(categories).where(sql`${categories.slug} = ${marker} and ${i} >= 0`);
      expect(rows).toEqual([]);
    }
    const statements = (await prepared(handle.db)).filter((s) => s.includes('"slug" = $1 and $2 >= 0'));
    expect(statements).toHaveLength(1);
  });

  it('prepares the queries of a transaction and of a savepoint in it', async () => {
    await handle.db.transaction(async (tx) => {
      await tx.select({ id: categories.id }).from(categories).where(sql`${categories.slug} = ${'in-a-transaction'}`);
      await tx.transaction(async (inner) => {
        await inner.select({ id: categories.id }).from(categories).where(sql`${categories.name} = ${'in-a-savepoint'}`);
      });
      const statements = await prepared(tx as unknown as Database);
      expect(statements.some((s) => s.includes('"slug" = $1'))).toBe(true);
      expect(statements.some((s) => s.includes('"name" = $1'))).toBe(true);
    });
  });

  it(`does not prepare a query with more than ${MAX_PREPARED_PARAMETERS} parameters, nor one without any`, async () => {
    const ids = Array.from({ length: MAX_PREPARED_PARAMETERS + 1 }, (_, i) => -1 - i);
    expect(await handle.db.select({ id: categories.id }).from(categories).where(inArray(categories.id, ids))).toEqual([]);
    expect(await handle.db.select({ id: categories.id }).from(categories).where(inArray(categories.id, ids.slice(1)))).toEqual([]);
    await queryRows(handle.db, sql`select 'no parameters here' as x`);
    const statements = await prepared(handle.db);
    const inLists = statements.filter((s) => s.includes('"id" in ('));
    expect(inLists).toHaveLength(1);
    expect(inLists[0]).toContain(`$${MAX_PREPARED_PARAMETERS}`);
    expect(inLists[0]).not.toContain(`$${MAX_PREPARED_PARAMETERS + 1}`);
    expect(statements.some((s) => s.includes('no parameters here'))).toBe(false);
  });

  it(`prepares at most ${MAX_PREPARED_STATEMENTS} distinct statements; later ones still run, unnamed`, async () => {
    // Its own pool: the limit counts what one open has prepared.
    const fresh = await openDb({ databaseUrl: t.url!, dataDir: '', poolMax: 1 });
    try {
      for (let n = 0; n < MAX_PREPARED_STATEMENTS + 20; n++) {
        const [row] = await queryRows<{ v: number }>(fresh.db, sql`select ${n}::int + ${sql.raw(String(n))} as v`);
        expect(Number(row!.v)).toBe(2 * n);
      }
      const ours = (await prepared(fresh.db)).filter((s) => / as v$/.test(s));
      expect(ours).toHaveLength(MAX_PREPARED_STATEMENTS);
      expect(ours.some((s) => s.endsWith('+ 0 as v'))).toBe(true);
      expect(ours.some((s) => s.endsWith(`+ ${MAX_PREPARED_STATEMENTS - 1} as v`))).toBe(true);
      expect(ours.some((s) => s.endsWith(`+ ${MAX_PREPARED_STATEMENTS} as v`))).toBe(false);
    } finally {
      await fresh.close();
    }
  });

  it('prepares nothing when turned off (DATABASE_PREPARED_STATEMENTS=false)', async () => {
    await unprepared.db.select({ id: categories.id }).from(categories).where(sql`${categories.slug} = ${'unprepared'}`);
    await unprepared.db.transaction(async (tx) => {
      await tx.select({ id: categories.id }).from(categories).where(sql`${categories.slug} = ${'unprepared in a transaction'}`);
    });
    // postgres.js prepares a few statements of its own (its type query, "commit"), none with parameters.
    expect((await prepared(unprepared.db)).filter((s) => s.includes('$1'))).toEqual([]);
  });
});
