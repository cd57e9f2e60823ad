import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, queryRows, type DbHandle } from '../../src/storage/db.js';
import { getSnapshot } from '../../src/storage/feeds.js';
import { MIGRATIONS_DIR, migrateDb } from '../../src/storage/migrate.js';
import { DB_KIND, TEST_DATABASE_URL } from '../helpers/db.js';

/**
 * Migration 0008 drops feed_snapshots.body (the identity body, which is gunzip(body_gzip)) and keeps
 * its length: a database rendered before it must serve the same Content-Length after it.
 */
describe(`migration 0008: identity bodies are no longer stored (${DB_KIND})`, () => {
  let handle: DbHandle;
  let dropDatabase = async () => {};
  let before: string;

  beforeAll(async () => {
    if (TEST_DATABASE_URL) {
      const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      const name = `syndicate_test_m8_${randomBytes(4).toString('hex')}`;
      await admin.unsafe(`create database "${name}"`);
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = `/${name}`;
      handle = await openDb({ databaseUrl: url.toString(), dataDir: '', poolMax: 2 });
      dropDatabase = async () => {
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
        await admin.end({ timeout: 5 });
      };
    } else {
      handle = await openDb({ dataDir: 'memory://' });
    }
    // The migrations as they were before 0008.
    before = mkdtempSync(join(tmpdir(), 'syndicate-m8-'));
    cpSync(MIGRATIONS_DIR, before, { recursive: true });
    const journalFile = join(before, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
    const at = journal.entries.findIndex((e) => e.tag.startsWith('0008_'));
    expect(at).toBe(8);
    for (const e of journal.entries.slice(at)) rmSync(join(before, `${e.tag}.sql`));
    journal.entries = journal.entries.slice(0, at);
    writeFileSync(journalFile, JSON.stringify(journal));
  });

  afterAll(async () => {
    await handle?.close();
    await dropDatabase();
    if (before) rmSync(before, { recursive: true, force: true });
  });

  it('keeps each stored snapshot, its codings and the length of its identity body', async () => {
    await migrateDb(handle, before);
    const identity = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wörld</title></channel></rss>\n`.repeat(40));
    const gzip = gzipSync(identity);
    await handle.db.execute(sql`insert into feed_state (feed_key) values ('world')`);
    await handle.db.execute(sql`
      insert into feed_snapshots (feed_key, format, body, body_gzip, body_br, etag, last_modified, item_count, generated_at, source_version, seq)
      values ('world', 'rss', ${identity}, ${gzip}, ${Buffer.from('br bytes')}, '"abc"', '2026-11-30T08:00:00Z', 0, '2026-11-30T08:00:01Z', 1, 7)`);

    await migrateDb(handle);

    const columns = await queryRows<{ column_name: string }>(
      handle.db,
      sql`select column_name from information_schema.columns where table_name = 'feed_snapshots' order by ordinal_position`,
    );
    expect(columns.map((c) => c.column_name)).not.toContain('body');
    const stored = await getSnapshot(handle.db, 'world', 'rss');
    expect(stored).toMatchObject({ feedKey: 'world', format: 'rss', etag: '"abc"', seq: 7, identityLength: identity.byteLength });
    expect(Buffer.compare(Buffer.from(stored!.bodyGzip), gzip)).toBe(0);
    expect(Buffer.from(stored!.bodyBrotli).toString()).toBe('br bytes');
  });
});
