import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/storage/db.js';
import { buildPgliteTemplate, isEmptyDataDir, seedDataDirFromTemplate } from '../../src/storage/pglite-template.js';

// The first start on an empty DATA_DIR copies the build's migrated template (decision 0001). Built
// here into a temporary folder with the real migrations, then opened by PGlite as the service would.

let root: string;
let template: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'syndicate-template-'));
  template = await buildPgliteTemplate(root);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function manifest(): { dirs: string[]; files: Array<[string, number, number]> } {
  return JSON.parse(readFileSync(join(template, 'syndicate-template.json'), 'utf8'));
}

describe('PGlite first-start template', () => {
  it('holds one database and stores trailing zero pages only as a size', () => {
    const m = manifest();
    expect(m.dirs).toContain('base/5');
    expect(m.dirs.filter((d) => /^base\/\d+$/.test(d))).toEqual(['base/5']);
    const wal = m.files.find(([path]) => /^pg_wal\/[0-9A-F]{24}$/.test(path));
    expect(wal).toBeDefined();
    const [path, size, stored] = wal!;
    expect(size).toBe(16 * 1024 * 1024);
    expect(stored).toBeLessThan(size);
    expect(statSync(join(template, path)).size).toBe(stored);
  });

  it('seeds an empty data dir that PGlite opens with the migrated schema, every file at its full size', async () => {
    const dataDir = join(root, 'data-a');
    expect(isEmptyDataDir(dataDir)).toBe(true);
    expect(seedDataDirFromTemplate(dataDir, template)).toBe(true);
    expect(isEmptyDataDir(dataDir)).toBe(false);
    for (const [path, size] of manifest().files) expect(statSync(join(dataDir, path)).size, path).toBe(size);
    const db = await PGlite.create({ dataDir });
    try {
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from articles');
      expect(rows[0]!.n).toBe(0);
      await db.exec(`insert into categories (slug, name) values ('world', 'World')`);
      // The dropped template databases give a clear error, not a half-made database.
      await expect(db.exec('create database other')).rejects.toThrow(/template database "template1" does not exist/);
    } finally {
      await db.close();
    }
    const again = await PGlite.create({ dataDir });
    try {
      const { rows } = await again.query<{ slug: string }>('select slug from categories');
      expect(rows.map((r) => r.slug)).toContain('world');
    } finally {
      await again.close();
    }
  });

  it('a copy cut short (no PG_VERSION yet) still counts as empty and is copied again', async () => {
    const dataDir = join(root, 'data-b');
    seedDataDirFromTemplate(dataDir, template);
    unlinkSync(join(dataDir, 'PG_VERSION'));
    unlinkSync(join(dataDir, 'global', 'pg_control'));
    expect(isEmptyDataDir(dataDir)).toBe(true);
    expect(seedDataDirFromTemplate(dataDir, template)).toBe(true);
    const db = await PGlite.create({ dataDir });
    try {
      expect((await db.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });

  it('without a template for these migrations nothing is copied', () => {
    const dataDir = join(root, 'data-c');
    expect(seedDataDirFromTemplate(dataDir, join(root, 'pglite-template-v2-000000000000'))).toBe(false);
    expect(existsSync(join(dataDir, 'base'))).toBe(false);
  });

  it('opens with the configured shared_buffers, and PostgreSQL\'s default without one', async () => {
    for (const [sharedBuffers, expected] of [['8MB', '8MB'], [undefined, '128MB']] as const) {
      const dataDir = join(root, `data-sb-${expected}`);
      seedDataDirFromTemplate(dataDir, template);
      const handle = await openDb({ dataDir, pgliteSharedBuffers: sharedBuffers });
      try {
        if (handle.raw.kind !== 'pglite') throw new Error('expected PGlite');
        const { rows } = await handle.raw.client.query<{ shared_buffers: string }>('show shared_buffers');
        expect(rows[0]!.shared_buffers).toBe(expected);
        // PGlite's own start parameters still apply (the list is extended, not replaced).
        const search = await handle.raw.client.query<{ search_path: string }>('show search_path');
        expect(search.rows[0]!.search_path).toBe('public');
      } finally {
        await handle.close();
      }
    }
  });
});
