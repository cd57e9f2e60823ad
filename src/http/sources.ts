import { OpenAPIHono, z } from '@hono/zod-openapi';
import { isIP } from 'node:net';
import type { Config } from '../config.js';
import type { Deps } from '../deps.js';
import type { FieldError } from '../domain/article-input.js';
import { cleanPlainText } from '../domain/clean-text.js';
import { zodIssuesToFieldErrors } from '../domain/field-errors.js';
import { RESERVED_CATEGORY_SLUG } from '../domain/normalize-article.js';
import { slugify } from '../domain/slug.js';
import { DEFAULT_POLL_INTERVAL_SECONDS, MIN_POLL_INTERVAL_SECONDS } from '../domain/source-schedule.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { pollSource, type PollResult } from '../jobs/poll-sources.js';
import { claimSource, deleteSource, getSource, insertSource, listSources, updateSource, type SourceRow } from '../storage/sources.js';
import { checkAddress } from '../upstream/address-guard.js';
import { requireScope, type AuthVariables } from './auth.js';
import { readJsonBody } from './json-body.js';
import { problemResponses } from './openapi.js';

export const MAX_POLL_INTERVAL_SECONDS = 7 * 24 * 60 * 60;
/** How long an on-demand poll may hold the source before a scheduled one could take it over. */
const ON_DEMAND_LEASE_MS = 10 * 60_000;

export interface SourceEvents {
  /** Called after a poll on demand committed new or changed articles. */
  articlesChanged(change: { count: number }): void;
}

const label = (max: number) =>
  z
    .string()
    .max(max * 5)
    .transform(cleanPlainText)
    .pipe(z.string().min(1, { message: 'must not be empty' }).max(max));

const categoryName = label(200).refine((name) => slugify(name) !== RESERVED_CATEGORY_SLUG, {
  message: `has the slug "${RESERVED_CATEGORY_SLUG}", which is reserved for the all-articles feed`,
});

/** http(s) only, trimmed, without a fragment (never sent to a server), in the WHATWG form (one URL, one spelling). */
const feedUrl = z
  .string()
  .max(2048)
  .transform((v) => v.trim())
  .superRefine((value, ctx) => {
    if (!URL.canParse(value)) return void ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) URL' });
    const url = new URL(value);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) URL' });
    }
  })
  .transform((value) => {
    const url = new URL(value);
    url.hash = '';
    return url.href;
  });

const fields = {
  url: feedUrl,
  name: label(200),
  categories: z
    .array(categoryName)
    .min(1, { message: 'must name at least one category' })
    .max(50)
    // "World" and "world!" are one category (one slug): the first spelling is kept.
    .transform((names) => names.filter((n, i) => names.findIndex((m) => slugify(m) === slugify(n)) === i)),
  pollIntervalSeconds: z.number().int().min(MIN_POLL_INTERVAL_SECONDS).max(MAX_POLL_INTERVAL_SECONDS),
  enabled: z.boolean(),
  useItemCategories: z.boolean(),
  fullContent: z.boolean(),
};

export const createSourceSchema = z.strictObject({
  url: fields.url,
  name: fields.name.optional(),
  categories: fields.categories,
  pollIntervalSeconds: fields.pollIntervalSeconds.default(DEFAULT_POLL_INTERVAL_SECONDS),
  enabled: fields.enabled.default(true),
  useItemCategories: fields.useItemCategories.default(false),
  fullContent: fields.fullContent.default(false),
});

const patchSchema = z.strictObject({
  url: fields.url.optional(),
  name: fields.name.optional(),
  categories: fields.categories.optional(),
  pollIntervalSeconds: fields.pollIntervalSeconds.optional(),
  enabled: fields.enabled.optional(),
  useItemCategories: fields.useItemCategories.optional(),
  fullContent: fields.fullContent.optional(),
});

/**
 * Refuses, when the source is saved, a URL whose host is written as a private, loopback, link-local…
 * address (or is localhost), unless SOURCE_ALLOW_PRIVATE. Names are resolved only when polled, where
 * the same guard checks every address and every redirect: DNS answers change, so a check here could
 * only ever be advisory.
 */
export function privateUrlErrors(url: string, config: Pick<Config, 'SOURCE_ALLOW_PRIVATE'>, path = 'url'): FieldError[] {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(host) !== 0) {
    const verdict = checkAddress(host, { allowPrivate: config.SOURCE_ALLOW_PRIVATE });
    if (!verdict.allowed) return [{ path, message: `points to a ${verdict.reason} address, which the poller may not reach` }];
    return [];
  }
  if (!config.SOURCE_ALLOW_PRIVATE && (host === 'localhost' || host.endsWith('.localhost'))) {
    return [{ path, message: 'points to localhost, which the poller may not reach (SOURCE_ALLOW_PRIVATE=false)' }];
  }
  return [];
}

/** The URL as shown: a password is masked (the user name stays, to tell credentials apart). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}

export function toSourceJson(s: SourceRow, now: Date) {
  return {
    id: s.id,
    url: displayUrl(s.url),
    name: s.name,
    categories: s.categories,
    pollIntervalSeconds: s.pollIntervalSeconds,
    enabled: s.enabled,
    useItemCategories: s.useItemCategories,
    fullContent: s.fullContent,
    lastPoll: s.lastPollAt
      ? {
          at: s.lastPollAt.toISOString(),
          outcome: s.lastOutcome,
          httpStatus: s.lastStatus,
          durationMs: s.lastDurationMs,
          itemsSeen: s.itemsSeen,
          itemsNew: s.itemsNew,
          itemsUpdated: s.itemsUpdated,
          itemsSkipped: s.itemsSkipped,
          itemErrors: s.itemErrors,
          errorCode: s.lastErrorCode,
          error: s.lastError,
        }
      : null,
    consecutiveFailures: s.consecutiveFailures,
    nextPollAt: s.enabled ? s.nextPollAt.toISOString() : null,
    retryAfterUntil: s.retryAfterUntil && s.retryAfterUntil > now ? s.retryAfterUntil.toISOString() : null,
    polling: s.leaseUntil !== null && s.leaseUntil > now,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

export function toPollResultJson(r: PollResult) {
  return {
    outcome: r.outcome,
    httpStatus: r.status,
    errorCode: r.errorCode,
    error: r.error,
    itemsSeen: r.itemsSeen,
    itemsNew: r.itemsNew,
    itemsUpdated: r.itemsUpdated,
    itemsSkipped: r.itemsSkipped,
    movedTo: r.movedTo ?? null,
    nextPollAt: r.nextPollAt?.toISOString() ?? null,
    durationMs: r.durationMs,
  };
}

/** Positive integer ids only; anything else names no source (404, not 400: the URL is simply unknown). */
function parseId(value: string): number {
  const id = /^[1-9]\d{0,9}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(id) || id > 2_147_483_647) throw new NotFoundError(`No source with id '${value}'.`);
  return id;
}

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ValidationError(zodIssuesToFieldErrors(parsed.error));
  return parsed.data;
}

/** Admin-only: register upstream feeds, see their polling state, poll one now. */
export function createSourcesRouter(deps: Deps, events?: SourceEvents) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>();
  app.use('*', requireScope(deps, 'admin'));

  app.post('/', async (c) => {
    const input = parseBody(createSourceSchema, await readJsonBody(c));
    const privateErrors = privateUrlErrors(input.url, deps.config);
    if (privateErrors.length > 0) throw new ValidationError(privateErrors);
    const row = await insertSource(deps.db, { ...input, name: input.name ?? new URL(input.url).hostname }, deps.now());
    if (!row) throw new ConflictError(`A source with the URL ${displayUrl(input.url)} exists already.`);
    c.header('Location', `/api/v1/sources/${row.id}`);
    return c.json(toSourceJson(row, deps.now()), 201);
  });

  app.get('/', async (c) => {
    const now = deps.now();
    return c.json({ items: (await listSources(deps.db)).map((s) => toSourceJson(s, now)) });
  });

  app.get('/:id', async (c) => {
    const id = parseId(c.req.param('id'));
    const row = await getSource(deps.db, id);
    if (!row) throw new NotFoundError(`No source with id ${id}.`);
    return c.json(toSourceJson(row, deps.now()));
  });

  app.patch('/:id', async (c) => {
    const id = parseId(c.req.param('id'));
    const patch = parseBody(patchSchema, await readJsonBody(c));
    if (patch.url !== undefined) {
      const privateErrors = privateUrlErrors(patch.url, deps.config);
      if (privateErrors.length > 0) throw new ValidationError(privateErrors);
    }
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const updated = await updateSource(deps.db, id, defined, deps.now());
    if (!updated) throw new NotFoundError(`No source with id ${id}.`);
    if ('conflict' in updated) throw new ConflictError(`Another source has the URL ${displayUrl(patch.url!)}.`);
    return c.json(toSourceJson(updated.row, deps.now()));
  });

  app.delete('/:id', async (c) => {
    const id = parseId(c.req.param('id'));
    if (!(await deleteSource(deps.db, id))) throw new NotFoundError(`No source with id ${id}.`);
    return c.body(null, 204);
  });

  app.post('/:id/poll', async (c) => {
    const id = parseId(c.req.param('id'));
    const now = deps.now();
    const current = await getSource(deps.db, id);
    if (!current) throw new NotFoundError(`No source with id ${id}.`);
    // Polite on demand too: the upstream said when we may come back.
    if (current.retryAfterUntil && current.retryAfterUntil > now) {
      throw new ConflictError(`The upstream asked (Retry-After) not to be polled before ${current.retryAfterUntil.toISOString()}.`);
    }
    const claimed = await claimSource(deps.db, id, { now, leaseMs: ON_DEMAND_LEASE_MS });
    if (!claimed) throw new NotFoundError(`No source with id ${id}.`);
    if (claimed === 'busy') throw new ConflictError(`Source ${id} is being polled right now; try again shortly.`);
    const result = await pollSource({ ...deps, onArticlesChanged: ({ count }) => events?.articlesChanged({ count }) }, claimed);
    const after = await getSource(deps.db, id);
    return c.json({ result: toPollResultJson(result), source: after ? toSourceJson(after, deps.now()) : null });
  });

  registerSourceDocs(app);
  return app;
}

function registerSourceDocs(app: OpenAPIHono<{ Variables: AuthVariables }>) {
  const security = [{ bearerAuth: [] }];
  const tags = ['sources'];
  const idParam = z.object({ id: z.string().regex(/^\d+$/).openapi({ example: '1' }) });
  // Documentation shapes (the validators above add cleaning transforms that do not describe well).
  const sourceFields = {
    url: z.string().url().max(2048).openapi({ example: 'https://wire.example.com/world/rss.xml' }),
    name: z.string().min(1).max(200).openapi({ description: 'Defaults to the host name' }),
    categories: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(50)
      .openapi({ example: ['World'] }),
    pollIntervalSeconds: z
      .number()
      .int()
      .min(MIN_POLL_INTERVAL_SECONDS)
      .max(MAX_POLL_INTERVAL_SECONDS)
      .openapi({ default: DEFAULT_POLL_INTERVAL_SECONDS }),
    enabled: z.boolean().openapi({ default: true }),
    useItemCategories: z.boolean().openapi({ default: false, description: 'Also file items under their own categories' }),
    fullContent: z.boolean().openapi({ default: false, description: 'Keep the upstream HTML body; otherwise only the summary' }),
  };
  const createDoc = z.object({
    ...sourceFields,
    name: sourceFields.name.optional(),
    pollIntervalSeconds: sourceFields.pollIntervalSeconds.optional(),
    enabled: sourceFields.enabled.optional(),
    useItemCategories: sourceFields.useItemCategories.optional(),
    fullContent: sourceFields.fullContent.optional(),
  });
  const patchDoc = createDoc.partial();
  const json = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema } } });

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/',
    summary: 'Register an upstream feed (RSS, Atom or JSON Feed) to poll into categories',
    tags,
    security,
    request: { body: json(createDoc) },
    responses: { 201: { description: 'The source, due for its first poll at once' }, ...problemResponses(400, 401, 403, 409, 415, 422) },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    summary: 'List sources with their polling state',
    tags,
    security,
    responses: {
      200: { description: 'Sources: settings, last poll (outcome, HTTP status, item counts, error), failures, next poll' },
      ...problemResponses(401, 403),
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/{id}',
    summary: 'Read one source and its polling state',
    tags,
    security,
    request: { params: idParam },
    responses: { 200: { description: 'The source' }, ...problemResponses(401, 403, 404) },
  });
  app.openAPIRegistry.registerPath({
    method: 'patch',
    path: '/{id}',
    summary: 'Change a source: a new URL or re-enabling makes it due at once',
    tags,
    security,
    request: { params: idParam, body: json(patchDoc) },
    responses: { 200: { description: 'The source' }, ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  app.openAPIRegistry.registerPath({
    method: 'delete',
    path: '/{id}',
    summary: 'Delete a source; its articles stay, but no longer update',
    tags,
    security,
    request: { params: idParam },
    responses: { 204: { description: 'Deleted' }, ...problemResponses(401, 403, 404) },
  });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/{id}/poll',
    summary: 'Poll a source now (enabled or not) and return the outcome',
    tags,
    security,
    request: { params: idParam },
    responses: {
      200: { description: 'The poll outcome (a failed upstream is an outcome, not an error) and the source after it' },
      ...problemResponses(401, 403, 404, 409),
    },
  });
}
