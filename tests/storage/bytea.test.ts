import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/storage/db.js';
import { createTestDb, DB_KIND, type TestDb } from '../helpers/db.js';

/**
 * Feed snapshots (body, gzip and brotli bytes) are bytea. On PGlite they no longer go through its
 * per-byte hex conversions (src/storage/db.ts, fastPgliteBytea); the bytes must still arrive and
 * come back exactly, on both drivers.
 */
let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t.close();
});

const CASES: Record<string, () => Uint8Array> = {
  empty: () => new Uint8Array(0),
  'every byte value': () => Uint8Array.from({ length: 256 }, (_, i) => i),
  'bytes that look like text escapes': () => Buffer.from('\\x00\\\\x41\'"\u0000end', 'utf8'),
  '1 MiB of random bytes': () => randomBytes(1 << 20),
  'a view into a larger buffer': () => new Uint8Array(Buffer.from('0123456789abcdef').buffer, 3, 5),
};

describe(`bytea round trip (${DB_KIND})`, () => {
  for (const [name, make] of Object.entries(CASES)) {
    it(`${name}: stored and read back byte for byte`, async () => {
      const bytes = make();
      const [row] = await queryRows<{ b: Uint8Array; n: number; h: string }>(
        t.handle.db,
        sql`select ${bytes}::bytea as b, octet_length(${bytes}::bytea) as n, md5(${bytes}::bytea) as h`,
      );
      expect(row!.n).toBe(bytes.byteLength);
      // md5 computed by the server: the parameter arrived as these bytes, not as their hex text.
      expect(row!.h).toBe(createHash('md5').update(bytes).digest('hex'));
      expect(row!.b).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(row!.b).equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))).toBe(true);
    });
  }

  it('NULL stays NULL', async () => {
    const [row] = await queryRows<{ b: Uint8Array | null }>(t.handle.db, sql`select ${null}::bytea as b`);
    expect(row!.b).toBeNull();
  });
});
