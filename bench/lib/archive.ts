import postgres from 'postgres';
import { openDb } from '../../src/storage/db.js';
import { migrateDb } from '../../src/storage/migrate.js';
import type { BenchContext } from './context.js';
import { createRng, createVocabulary, sentence } from './text.js';
import { dbUrl, migrationsHash } from './pg.js';

/** Bump when the seeding below changes: a kept archive of another version is rebuilt. */
const SEED_VERSION = 'v2';
const TABLES = ['articles', 'article_categories'];

export interface Archive {
  name: string;
  url: string;
  reused: boolean;
  /** Seconds the seeding took (0 when reused). */
  seedSeconds: number;
  articles: number;
  categories: number;
}

export function archiveName(articles: number): string {
  return `syndicate_bench_${articles}`;
}

function stamp(articles: number, categories: number): string {
  return `syndicate bench archive ${SEED_VERSION} migrations=${migrationsHash()} articles=${articles} categories=${categories}`;
}

/**
 * The large archive of scenarios 4 and 6, kept between runs: a database `syndicate_bench_<n>` made
 * from scratch with the project's migrations, seeded server-side (INSERT … SELECT over
 * generate_series, two sessions in parallel, indexes and constraints dropped during the load and
 * rebuilt with their exact definitions after). Its comment records the migration hash and size; a
 * database whose comment differs (or that an interrupted seeding left without one) is rebuilt.
 */
export async function ensureArchive(ctx: BenchContext, articles: number, categories: number): Promise<Archive> {
  const admin = ctx.admin!;
  const name = archiveName(articles);
  const url = dbUrl(name);
  const expected = stamp(articles, categories);
  const [existing] = await admin<{ comment: string | null }[]>`
    select shobj_description(oid, 'pg_database') as comment from pg_database where datname = ${name}`;
  if (existing && existing.comment === expected) {
    ctx.log(`  reusing the archive database ${name} (same migrations and size; drop it to rebuild)`);
    return { name, url, reused: true, seedSeconds: 0, articles, categories };
  }
  ctx.log(existing ? `  archive ${name} is stale or incomplete (${existing.comment ?? 'no stamp'}): rebuilding` : `  creating the archive database ${name}`);
  const started = performance.now();
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  const handle = await openDb({ databaseUrl: url, dataDir: '', poolMax: 2 });
  try {
    await migrateDb(handle);
  } finally {
    await handle.close();
  }
  const sql = postgres(url, { max: 2, onnotice: () => {}, connection: { synchronous_commit: 'off', maintenance_work_mem: '512MB', max_parallel_maintenance_workers: 2 } });
  try {
    await seed(ctx, sql, articles, categories);
  } finally {
    await sql.end({ timeout: 5 });
  }
  await admin.unsafe(`comment on database "${name}" is '${expected.replace(/'/g, "''")}'`);
  const seedSeconds = (performance.now() - started) / 1000;
  ctx.log(`  seeded ${articles.toLocaleString('en-GB')} articles in ${categories} categories in ${seedSeconds.toFixed(1)} s (kept for later runs)`);
  return { name, url, reused: false, seedSeconds, articles, categories };
}

async function seed(ctx: BenchContext, sql: postgres.Sql, n: number, c: number): Promise<void> {
  const t = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const t0 = performance.now();
  // ~1 KB of HTML per article from a pool of paragraphs made by the same text generator.
  const vocab = createVocabulary();
  const rng = createRng(4242);
  const paragraphs = Array.from({ length: 997 }, () => `${sentence(vocab, rng)} ${sentence(vocab, rng)}`);
  const heads = Array.from({ length: 101 }, () => sentence(vocab, rng, 4, 8).slice(0, -1));

  await sql`insert into categories (slug, name, description, created_at, updated_at)
    select 'section-' || lpad(i::text, 4, '0'), 'Section ' || lpad(i::text, 4, '0'), null, now() - interval '400 days', now() - interval '400 days'
    from generate_series(1, ${c}) i`;
  const [range] = await sql<{ lo: number; hi: number }[]>`select min(id)::int as lo, max(id)::int as hi from categories`;
  if (range?.lo !== 1 || range.hi !== c) throw new Error(`unexpected category ids ${range?.lo}..${range?.hi}`);

  // Drop what slows a bulk load (every index and constraint of the two big tables), keeping the exact
  // definitions to rebuild them afterwards: the schema ends up as the migrations made it.
  const constraints = await sql<{ table: string; name: string; def: string; type: string }[]>`
    select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as def, contype as type
    from pg_constraint where conrelid::regclass::text = any(${TABLES}) and contype in ('p', 'u', 'f')`;
  const indexes = await sql<{ name: string; def: string }[]>`
    select indexname as name, indexdef as def from pg_indexes
    where schemaname = 'public' and tablename = any(${TABLES})
      and indexname not in (select conname from pg_constraint where contype in ('p', 'u'))`;
  const order = { f: 0, u: 1, p: 2 } as Record<string, number>;
  for (const con of [...constraints].sort((a, b) => order[a.type]! - order[b.type]!)) await sql.unsafe(`alter table "${con.table}" drop constraint "${con.name}"`);
  for (const idx of indexes) await sql.unsafe(`drop index "${idx.name}"`);

  // Articles 1..n, newest last, 31 s apart, all published before now. Category names are
  // "Section 0001" (slug section-0001, as ingest would make it). Odd ids are in one category (an even
  // one: 1 + i % c), even ids in two (both odd ones), when the second differs from the first.
  const chunk = Math.ceil(n / 8);
  const ranges = Array.from({ length: Math.ceil(n / chunk) }, (_, k) => [k * chunk + 1, Math.min(n, (k + 1) * chunk)] as const);
  let done = 0;
  const loadRange = async ([lo, hi]: readonly [number, number]) => {
    await sql`
      with p as (select ${paragraphs}::text[] as b, ${heads}::text[] as h, cardinality(${paragraphs}::text[]) as np, cardinality(${heads}::text[]) as nh)
      insert into articles (id, external_id, guid, title, url, summary, content_html, authors, category_names, tags, image_url, language,
                            enclosures, status, published_at, updated_at, created_at, deleted_at, content_hash)
      select i, 'archive-' || i, 'tag:news.example.co.uk,2025-01-01:article:' || i,
        p.h[1 + i % p.nh] || ' ' || i,
        'https://news.example.co.uk/archive/' || i,
        left(p.b[1 + (i * 7) % p.np], 200),
        '<p>' || p.b[1 + i % p.np] || '</p><p>' || p.b[1 + (i * 31) % p.np] || '</p><h2>' || p.h[1 + (i * 3) % p.nh] || '</h2><p>'
          || p.b[1 + (i * 97) % p.np] || ' <a href="https://news.example.co.uk/topics/' || (i % 500) || '">' || p.h[1 + (i * 5) % p.nh] || '</a></p><p>'
          || p.b[1 + (i * 13 + 5) % p.np] || '</p>',
        jsonb_build_array(jsonb_build_object('name', 'Reporter ' || (i % 50))),
        case when i % 2 = 0 and (i * 7919) % ${c} <> i % ${c}
          then jsonb_build_array('Section ' || lpad((1 + i % ${c})::text, 4, '0'), 'Section ' || lpad((1 + (i * 7919) % ${c})::text, 4, '0'))
          else jsonb_build_array('Section ' || lpad((1 + i % ${c})::text, 4, '0')) end,
        '[]'::jsonb, null, 'en-GB', '[]'::jsonb, 'published',
        ts, ts, ts, null, md5(i::text) || md5((i + 1)::text)
      from p, generate_series(${lo}::bigint, ${hi}::bigint) i,
        lateral (select now() - interval '1 day' - (${n}::bigint - i) * interval '31 seconds' as ts) d`;
    await sql`
      insert into article_categories (category_id, article_id, published_at, listed)
      select cat, i, now() - interval '1 day' - (${n}::bigint - i) * interval '31 seconds', true
      from generate_series(${lo}::bigint, ${hi}::bigint) i,
        lateral (select 1 + (i % ${c})::int as cat
                 union all
                 select 1 + ((i * 7919) % ${c})::int where i % 2 = 0 and (i * 7919) % ${c} <> i % ${c}) cats`;
    done += hi - lo + 1;
    ctx.log(`    ${done.toLocaleString('en-GB')} / ${n.toLocaleString('en-GB')} articles (${t()})`);
  };
  // Two sessions in parallel (the pool has two connections): the load is CPU-bound on the server.
  const queue = [...ranges];
  await Promise.all([0, 1].map(async () => {
    for (let r = queue.shift(); r; r = queue.shift()) await loadRange(r);
  }));

  ctx.log(`    rebuilding ${indexes.length} indexes and ${constraints.length} constraints (${t()})`);
  const rebuild = async (stmts: string[]) => {
    const q = [...stmts];
    await Promise.all([0, 1].map(async () => {
      for (let s = q.shift(); s; s = q.shift()) await sql.unsafe(s);
    }));
  };
  await rebuild([
    ...constraints.filter((k) => k.type !== 'f').map((k) => `alter table "${k.table}" add constraint "${k.name}" ${k.def}`),
    ...indexes.map((i) => i.def),
  ]);
  for (const k of constraints.filter((k) => k.type === 'f')) await sql.unsafe(`alter table "${k.table}" add constraint "${k.name}" ${k.def}`);
  await sql`select setval(pg_get_serial_sequence('articles', 'id'), ${n}::bigint)`;
  await sql`insert into feed_state (feed_key, category_id, created_at) select slug, id, created_at from categories on conflict do nothing`;
  ctx.log(`    analyze (${t()})`);
  await sql`vacuum analyze`;
}
