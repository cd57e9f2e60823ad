import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { Author, Enclosure } from '../domain/article-input.js';
import type { EpisodeInfo, PodcastConfig } from '../domain/podcast.js';

/** bytea as a Node Buffer/Uint8Array on both drivers. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const categories = pgTable('categories', {
  id: serial('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  createdAt: tz('created_at').notNull().defaultNow(),
  /** When the category's own metadata (name, description) last changed: part of its feeds' content. */
  updatedAt: tz('updated_at').notNull().defaultNow(),
  /** Set when the category is a podcast: its RSS carries the iTunes/Podcasting 2.0 show tags. */
  podcast: jsonb('podcast').$type<PodcastConfig>(),
});

export const articles = pgTable(
  'articles',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    externalId: text('external_id').notNull().unique(),
    /** tag: URI fixed at creation; never changes whatever is edited. */
    guid: text('guid').notNull().unique(),
    title: text('title').notNull(),
    url: text('url').notNull(),
    summary: text('summary'),
    contentHtml: text('content_html'),
    authors: jsonb('authors').$type<Author[]>().notNull().default([]),
    /** Category names as given (display order); the join table holds the links. */
    categoryNames: jsonb('category_names').$type<string[]>().notNull().default([]),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    imageUrl: text('image_url'),
    language: text('language').notNull(),
    enclosures: jsonb('enclosures').$type<Enclosure[]>().notNull().default([]),
    status: text('status', { enum: ['published', 'draft'] }).notNull().default('published'),
    publishedAt: tz('published_at').notNull(),
    updatedAt: tz('updated_at').notNull(),
    createdAt: tz('created_at').notNull(),
    /** Set on retraction: the row stays for tombstones, the article leaves every feed. */
    deletedAt: tz('deleted_at'),
    /** sha256 of the normalised content: an unchanged re-ingest writes nothing and touches no feed. */
    contentHash: text('content_hash').notNull(),
    /** Episode details when the article is a podcast episode (episode/season numbers, type). */
    podcast: jsonb('podcast').$type<EpisodeInfo>(),
    /**
     * The upstream source that created the article (null for CMS articles). Deleting the source keeps
     * its articles: they simply stop being updated.
     */
    sourceId: integer('source_id').references((): AnyPgColumn => sources.id, { onDelete: 'set null' }),
  },
  (t) => [
    // Serves /feeds/all and the API listing: newest first, scanned backwards.
    index('articles_listed_published_idx')
      .on(t.publishedAt, t.id)
      .where(sql`${t.status} = 'published' and ${t.deletedAt} is null`),
    index('articles_published_idx').on(t.publishedAt, t.id),
    index('articles_source_idx').on(t.sourceId),
    // Tombstones of `all` (retractions of the last 30 days): without it, a seq scan of the archive on
    // every render of `all` (~250 ms at 1M articles, bench/ refresh scenario).
    index('articles_deleted_idx')
      .on(t.deletedAt, t.id)
      .where(sql`${t.deletedAt} is not null`),
    // `?since=` also matches articles updated after the instant.
    index('articles_listed_updated_idx')
      .on(t.updatedAt)
      .where(sql`${t.status} = 'published' and ${t.deletedAt} is null`),
  ],
);

export const articleCategories = pgTable(
  'article_categories',
  {
    categoryId: integer('category_id')
      .notNull()
      .references(() => categories.id, { onDelete: 'cascade' }),
    articleId: bigint('article_id', { mode: 'number' })
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    /** Denormalised sort key: "latest N in a category" is an index range scan, not a join over the archive. */
    publishedAt: tz('published_at').notNull(),
    /** Published and not deleted (drafts and retractions never appear in feeds). */
    listed: boolean('listed').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.categoryId, t.articleId] }),
    index('article_categories_listed_idx')
      .on(t.categoryId, t.publishedAt, t.articleId)
      .where(sql`${t.listed}`),
    index('article_categories_article_idx').on(t.articleId),
  ],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    scopes: text('scopes').array().notNull(),
    /** sha256 of the secret (hex). The secret is high-entropy random, so a fast hash is enough. */
    tokenHash: text('token_hash').notNull(),
    /** First characters of the secret, to tell tokens apart in listings. */
    prefix: text('prefix').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastUsedAt: tz('last_used_at'),
    revokedAt: tz('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash)],
);

/**
 * One row per feed (a category's, or `all`): what changed, what was last rendered, when a scheduled
 * article becomes due. A refresh tick reads only this table when nothing changed.
 */
export const feedState = pgTable(
  'feed_state',
  {
    /** `all` or a category slug (slugs never change; names do). */
    feedKey: text('feed_key').primaryKey(),
    categoryId: integer('category_id').references(() => categories.id, { onDelete: 'cascade' }),
    /** Bumped in the same transaction as every change to the feed's content. */
    version: bigint('version', { mode: 'number' }).notNull().default(1),
    /**
     * The version of the last change that may have changed the live feed (its newest items). A change
     * that only files articles below the live window (an archive import) bumps `version` alone: the
     * archive views see it, and the live feed is not read again for it. The feed needs a render when
     * this is ahead of renderedVersion.
     */
    liveVersion: bigint('live_version', { mode: 'number' }).notNull().default(1),
    /** The version the current snapshots were rendered from (0: never rendered). */
    renderedVersion: bigint('rendered_version', { mode: 'number' }).notNull().default(0),
    /**
     * publishedAt of the oldest item of the last render when the live window was full: a new article
     * published before it cannot enter the feed. Null when the window was not full (any article can).
     */
    liveFloor: tz('live_floor'),
    /** Earliest publishedAt of a scheduled (future) article in this feed: the feed changes then. */
    nextDueAt: tz('next_due_at'),
    /** Hash of the rendered content (without its `updated` date): an identical re-render writes nothing. */
    contentDigest: text('content_digest'),
    /** The feed's `updated` / lastBuildDate: the newest change to its content, never "now" per request. */
    contentUpdatedAt: tz('content_updated_at'),
    /** The date in the feed's tag: URI id. */
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [index('feed_state_category_idx').on(t.categoryId)],
);

/** Orders snapshot writes across instances (feed_snapshots.seq). */
export const feedSnapshotSeq = pgSequence('feed_snapshot_seq');

/** Pre-rendered bytes of each feed × format, served as they are (compressed once, at render). */
export const feedSnapshots = pgTable(
  'feed_snapshots',
  {
    feedKey: text('feed_key')
      .notNull()
      .references(() => feedState.feedKey, { onDelete: 'cascade' }),
    format: text('format', { enum: ['rss', 'atom', 'json'] }).notNull(),
    // No identity body: it is gunzip(body_gzip), decoded where it is needed (a reader asking for no
    // content-coding, a WebSub content push). Storing it made up ~80 % of every render's bytes.
    bodyGzip: bytea('body_gzip').notNull(),
    bodyBrotli: bytea('body_br').notNull(),
    /** Byte length of the identity body (its Content-Length), known without decoding. */
    identityLength: integer('identity_length').notNull(),
    /** Strong validator of the identity body; the gzip and br variants append -gz / -br. */
    etag: text('etag').notNull(),
    lastModified: tz('last_modified').notNull(),
    itemCount: integer('item_count').notNull(),
    generatedAt: tz('generated_at').notNull(),
    /** feed_state.version this was rendered from; a slower, older render never overwrites a newer one. */
    sourceVersion: bigint('source_version', { mode: 'number' }).notNull(),
    /** Global change counter: instances fetch what changed since the last number they saw. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.feedKey, t.format] }), index('feed_snapshots_seq_idx').on(t.seq)],
);

/**
 * Upstream feeds polled into articles. Scheduling state lives on the row (as in miniflux): the poller
 * claims due rows, polls, and records every outcome here; nothing about a poll is thrown away.
 */
export const sources = pgTable(
  'sources',
  {
    id: serial('id').primaryKey(),
    /** Where the feed is fetched from; a 301/308 moves it. May carry user:password for Basic auth. */
    url: text('url').notNull(),
    name: text('name').notNull(),
    /** Category names every item is filed under (at least one). */
    categories: jsonb('categories').$type<string[]>().notNull(),
    pollIntervalSeconds: integer('poll_interval_seconds').notNull().default(900),
    enabled: boolean('enabled').notNull().default(true),
    /** Also file items under their own category names. */
    useItemCategories: boolean('use_item_categories').notNull().default(false),
    /** Republish the upstream HTML body; otherwise only the summary. */
    fullContent: boolean('full_content').notNull().default(false),
    /** Validators of the last good response, sent back as If-None-Match / If-Modified-Since. */
    etag: text('etag'),
    lastModified: text('last_modified'),
    lastPollAt: tz('last_poll_at'),
    lastOutcome: text('last_outcome', { enum: ['ok', 'not-modified', 'rate-limited', 'gone', 'error'] }),
    lastStatus: integer('last_status'),
    /** A FetchErrorCode (dns, timeout, too-large, forbidden-address…), or rate-limited, gone, parse, storage, internal. */
    lastErrorCode: text('last_error_code'),
    lastError: text('last_error'),
    lastDurationMs: integer('last_duration_ms'),
    /** Counts from the last poll (0 for a poll that read no feed: a 304, a failure). */
    itemsSeen: integer('items_seen').notNull().default(0),
    itemsNew: integer('items_new').notNull().default(0),
    itemsUpdated: integer('items_updated').notNull().default(0),
    /** Items dropped by that poll: invalid, duplicated inside the feed, retracted here, or over the cap. */
    itemsSkipped: integer('items_skipped').notNull().default(0),
    /** The first few reasons items were skipped. */
    itemErrors: jsonb('item_errors').$type<SourceItemError[]>().notNull().default([]),
    /** Polls in a row that did not succeed (0 after a 200 or 304); drives the back-off. */
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    /** When the source is next due. Bumped at claim time: it doubles as the poller's lease. */
    nextPollAt: tz('next_poll_at').notNull().defaultNow(),
    /** Set while a poller holds the source; the value is the claim's token. */
    leaseUntil: tz('lease_until'),
    /** The upstream asked us (429, 503 + Retry-After) not to come back before this. */
    retryAfterUntil: tz('retry_after_until'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('sources_url_idx').on(t.url),
    // The claim: enabled sources in next_poll_at order.
    index('sources_due_idx').on(t.nextPollAt).where(sql`${t.enabled}`),
  ],
);

export interface SourceItemError {
  /** Position of the item in the feed (0-based). */
  item: number;
  /** The item's identity key (guid, link or hash), when it has one. */
  key?: string;
  path?: string;
  message: string;
}

/**
 * Partners (aggregator sites) read feeds through a key of their own, limited to some categories, with
 * an embargo and full text or summaries. The key is a secret in the URL: only its sha256 is stored.
 */
export const partners = pgTable(
  'partners',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    keyPrefix: text('key_prefix').notNull(),
    /** Category slugs this partner may read; null means every category (and `all`). */
    categories: text('categories').array(),
    embargoMinutes: integer('embargo_minutes').notNull().default(0),
    content: text('content', { enum: ['full', 'summary'] }).notNull().default('full'),
    createdAt: tz('created_at').notNull().defaultNow(),
    revokedAt: tz('revoked_at'),
  },
  (t) => [uniqueIndex('partners_key_hash_idx').on(t.keyHash)],
);

/** Per partner and feed: what it fetched and how (written in batches, off the request path). */
export const partnerFeedStats = pgTable(
  'partner_feed_stats',
  {
    partnerId: uuid('partner_id')
      .notNull()
      .references(() => partners.id, { onDelete: 'cascade' }),
    /** The feed path after /partners/{key}, e.g. /feeds/world.rss. */
    feedPath: text('feed_path').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    okResponses: bigint('ok_responses', { mode: 'number' }).notNull().default(0),
    notModifiedResponses: bigint('not_modified_responses', { mode: 'number' }).notNull().default(0),
    lastFetchAt: tz('last_fetch_at'),
    lastUserAgent: text('last_user_agent'),
  },
  (t) => [primaryKey({ columns: [t.partnerId, t.feedPath] })],
);

// ---------------------------------------------------------------------------------------------
// WebSub hub (issue 7): subscriptions, what changed per topic, and durable deliveries.
// ---------------------------------------------------------------------------------------------

/**
 * Verified subscriptions (W3C WebSub §5). A row exists only once the callback echoed the challenge;
 * intents being verified are not stored. One row per (topic, callback): a renewal updates it in place.
 */
export const websubSubscriptions = pgTable(
  'websub_subscriptions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    /** The feed URL exactly as subscribed (our canonical self URL). */
    topic: text('topic').notNull(),
    feedKey: text('feed_key').notNull(),
    format: text('format', { enum: ['rss', 'atom', 'json'] }).notNull(),
    callback: text('callback').notNull(),
    /** hub.secret for X-Hub-Signature (under 200 bytes), or null. */
    secret: text('secret'),
    leaseSeconds: integer('lease_seconds').notNull(),
    /** An expired subscription gets nothing; the sweep deletes it. */
    expiresAt: tz('expires_at').notNull(),
    createdAt: tz('created_at').notNull(),
    verifiedAt: tz('verified_at').notNull(),
    lastDeliveryAt: tz('last_delivery_at'),
    lastDeliveryStatus: integer('last_delivery_status'),
    lastError: text('last_error'),
    /** Deliveries given up after the last attempt. */
    failedDeliveries: integer('failed_deliveries').notNull().default(0),
  },
  (t) => [
    uniqueIndex('websub_subscriptions_topic_callback_idx').on(t.topic, t.callback),
    index('websub_subscriptions_feed_idx').on(t.feedKey, t.format),
  ],
);

/**
 * The newest snapshot seq pushed per topic: an instance that moves it forward (a conditional update)
 * owns that change, so a change is pushed once however many instances hear of it.
 */
export const websubTopics = pgTable('websub_topics', {
  topic: text('topic').primaryKey(),
  feedKey: text('feed_key').notNull(),
  format: text('format', { enum: ['rss', 'atom', 'json'] }).notNull(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull().default(0),
  updatedAt: tz('updated_at').notNull(),
});

/** The body of one change of a topic, stored once and shared by its deliveries. */
export const websubPushes = pgTable(
  'websub_pushes',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    topic: text('topic').notNull(),
    feedKey: text('feed_key').notNull(),
    format: text('format', { enum: ['rss', 'atom', 'json'] }).notNull(),
    /** feed_snapshots.seq of the body. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    contentType: text('content_type').notNull(),
    body: bytea('body').notNull(),
    createdAt: tz('created_at').notNull(),
  },
  (t) => [uniqueIndex('websub_pushes_topic_seq_idx').on(t.topic, t.seq)],
);

/**
 * One push to one subscriber, stored before it is sent. Claimed with FOR UPDATE SKIP LOCKED plus a
 * lease (locked_until), so one instance sends it at a time; only the oldest pending delivery of a
 * subscription is claimable, so each subscriber receives its pushes in order.
 */
export const websubDeliveries = pgTable(
  'websub_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    subscriptionId: bigint('subscription_id', { mode: 'number' })
      .notNull()
      .references(() => websubSubscriptions.id, { onDelete: 'cascade' }),
    pushId: bigint('push_id', { mode: 'number' })
      .notNull()
      .references(() => websubPushes.id, { onDelete: 'cascade' }),
    state: text('state', { enum: ['pending', 'delivered', 'failed', 'cancelled'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tz('next_attempt_at').notNull(),
    /** Set while an instance is sending it; a crashed sender's lease simply runs out. */
    lockedUntil: tz('locked_until'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: tz('created_at').notNull(),
    finishedAt: tz('finished_at'),
  },
  (t) => [
    index('websub_deliveries_pending_idx').on(t.subscriptionId, t.id).where(sql`${t.state} = 'pending'`),
    index('websub_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    index('websub_deliveries_push_idx').on(t.pushId),
  ],
);

// ---------------------------------------------------------------------------------------------
// Reader statistics (issue 7): written in batches by each instance, never raw addresses.
// ---------------------------------------------------------------------------------------------

/**
 * Per UTC day and feed: for each aggregator (client = its name, per format), the largest subscriber
 * count it announced in its User-Agent that day; and, once a day is over, the number of distinct
 * other readers that day (client = '', format = ''), rolled up from feed_reader_visits.
 */
export const feedReaderStats = pgTable(
  'feed_reader_stats',
  {
    day: date('day', { mode: 'string' }).notNull(),
    feedKey: text('feed_key').notNull(),
    format: text('format').notNull(),
    client: text('client').notNull(),
    subscribers: integer('subscribers').notNull().default(0),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.feedKey, t.format, t.client] })],
);

/**
 * Distinct readers of the current and previous day: a salted hash of address + User-Agent per row.
 * The salt changes every day and is deleted after two, so a hash can be neither reversed nor linked
 * across days; older days are rolled up into feed_reader_stats and deleted.
 */
export const feedReaderVisits = pgTable(
  'feed_reader_visits',
  {
    day: date('day', { mode: 'string' }).notNull(),
    feedKey: text('feed_key').notNull(),
    readerHash: text('reader_hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.feedKey, t.readerHash] })],
);

/** The daily salt, shared by every instance (so their distinct counts add up); kept two days. */
export const readerStatsSalts = pgTable('reader_stats_salts', {
  day: date('day', { mode: 'string' }).primaryKey(),
  salt: text('salt').notNull(),
});
