import { and, asc, eq, getTableColumns, inArray, isNotNull, sql } from 'drizzle-orm';
import type { PodcastConfig } from '../domain/podcast.js';
import type { CategoryRef } from '../domain/article-input.js';
import type { Database } from './db.js';
import { markFeedsDirty } from './feed-state.js';
import { articleCategories, categories, feedState } from './schema.js';

export type CategoryRow = typeof categories.$inferSelect;

/** Creates the categories that do not exist yet (first use) and returns slug → id for all of them. */
export async function ensureCategories(db: Database, refs: CategoryRef[], now: Date): Promise<Map<string, number>> {
  const bySlug = new Map<string, CategoryRef>();
  for (const ref of refs) if (!bySlug.has(ref.slug)) bySlug.set(ref.slug, ref);
  if (bySlug.size === 0) return new Map();
  const slugs = [...bySlug.keys()].sort();
  const ids = new Map<string, number>();
  // Sorted inserts: two concurrent batches creating the same categories lock rows in the same order.
  // In slices: a full batch may name up to 50,000 categories, and one statement carries at most
  // 65,534 bind parameters.
  for (let i = 0; i < slugs.length; i += CATEGORY_CHUNK) {
    const chunk = slugs.slice(i, i + CATEGORY_CHUNK);
    const created = await db
      .insert(categories)
      .values(chunk.map((slug) => ({ slug, name: bySlug.get(slug)!.name, createdAt: now, updatedAt: now })))
      .onConflictDoNothing({ target: categories.slug })
      .returning({ id: categories.id, slug: categories.slug });
    if (created.length > 0) {
      // Every category has a feed from its first use.
      await db.insert(feedState).values(created.map((r) => ({ feedKey: r.slug, categoryId: r.id, createdAt: now }))).onConflictDoNothing();
    }
    const rows = await db.select({ id: categories.id, slug: categories.slug }).from(categories).where(inArray(categories.slug, chunk));
    for (const r of rows) ids.set(r.slug, r.id);
  }
  return ids;
}

const CATEGORY_CHUNK = 5_000;

export interface CategoryWithCount extends CategoryRow {
  articleCount: number;
}

/** Every category with its number of listed (published, not deleted) articles, by name. */
export async function listCategories(db: Database): Promise<CategoryWithCount[]> {
  const rows = await db
    .select({
      id: categories.id,
      slug: categories.slug,
      name: categories.name,
      description: categories.description,
      createdAt: categories.createdAt,
      updatedAt: categories.updatedAt,
      podcast: categories.podcast,
      articleCount: sql<number>`(select count(*) from ${articleCategories} ac where ac.category_id = ${categories.id} and ac.listed)`.mapWith(Number),
    })
    .from(categories)
    .orderBy(asc(categories.name), asc(categories.slug));
  return rows;
}

export async function getCategoryBySlug(db: Database, slug: string): Promise<CategoryRow | undefined> {
  const rows = await db.select().from(categories).where(eq(categories.slug, slug)).limit(1);
  return rows[0];
}

/**
 * Creates or changes a category (name, description and, when `podcast` is given, its podcast settings:
 * an object turns the podcast on or changes it, null turns it off, undefined leaves it as it is).
 * updated_at moves only when something actually changes, so an idempotent PUT does not touch its
 * feeds. Returns the row and whether it was created.
 */
export async function putCategory(
  db: Database,
  slug: string,
  fields: { name: string; description: string | null; podcast?: PodcastConfig | null },
  now: Date,
): Promise<{ category: CategoryRow; created: boolean; changed: boolean }> {
  return db.transaction(async (tx) => {
    const podcastGiven = fields.podcast !== undefined;
    const podcast = fields.podcast ?? null;
    const rows = await tx
      .insert(categories)
      .values({ slug, name: fields.name, description: fields.description, podcast, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: categories.slug,
        set: podcastGiven
          ? { name: fields.name, description: fields.description, podcast: sql`excluded.podcast`, updatedAt: now }
          : { name: fields.name, description: fields.description, updatedAt: now },
        // jsonb compares by value (key order does not matter): an identical podcast config is no change.
        setWhere: podcastGiven
          ? sql`(${categories.name}, ${categories.description}, ${categories.podcast}) is distinct from (excluded.name, excluded.description, excluded.podcast)`
          : sql`(${categories.name}, ${categories.description}) is distinct from (excluded.name, excluded.description)`,
      })
      .returning({ ...getTableColumns(categories), inserted: sql<boolean>`(xmax = 0)` });
    const first = rows[0];
    if (first) {
      const { inserted, ...category } = first;
      await tx.insert(feedState).values({ feedKey: category.slug, categoryId: category.id, createdAt: now }).onConflictDoNothing();
      // A new name, description or podcast setting is part of this feed (and the labels in `all`).
      await markFeedsDirty(tx, [category.id], true);
      return { category, created: inserted, changed: true };
    }
    const existing = await getCategoryBySlug(tx, slug);
    return { category: existing!, created: false, changed: false };
  });
}

/** The slugs among `slugs` whose category is a podcast (their episodes must carry a real length). */
/** Slugs of every podcast category (a publisher has a handful). */
export async function allPodcastSlugs(db: Database): Promise<Set<string>> {
  const rows = await db.select({ slug: categories.slug }).from(categories).where(isNotNull(categories.podcast));
  return new Set(rows.map((r) => r.slug));
}

export async function findPodcastSlugs(db: Database, slugs: string[]): Promise<Set<string>> {
  const unique = [...new Set(slugs)];
  if (unique.length === 0) return new Set();
  const found = new Set<string>();
  for (let i = 0; i < unique.length; i += CATEGORY_CHUNK) {
    const rows = await db
      .select({ slug: categories.slug })
      .from(categories)
      .where(and(inArray(categories.slug, unique.slice(i, i + CATEGORY_CHUNK)), isNotNull(categories.podcast)));
    for (const r of rows) found.add(r.slug);
  }
  return found;
}
