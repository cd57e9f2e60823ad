import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { FeedRuntime } from './feed-runtime.js';
import { generateTokenSecret, hashToken, SCOPES, type Scope } from './http/auth.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { openDb, type DbHandle } from './storage/db.js';
import { migrateDb } from './storage/migrate.js';
import { buildPgliteTemplate } from './storage/pglite-template.js';
import { insertToken, listTokens } from './storage/tokens.js';
import { pino } from 'pino';
import { zodIssuesToFieldErrors } from './domain/field-errors.js';
import { createSourceSchema, displayUrl, privateUrlErrors, toPollResultJson } from './http/sources.js';
import { pollDueSources, pollSource } from './jobs/poll-sources.js';
import { claimSource, insertSource, listSources } from './storage/sources.js';

const USAGE = `syndicate command line (npm run cli -- <command>)

  migrate                              apply migrations to DATABASE_URL or the PGlite DATA_DIR
  token create --name N --scope S...   create an API token (scopes: ${SCOPES.join(', ')}); prints the secret once
  token list                           list tokens (never their secrets)
  refresh                              re-render every feed now
  source add <url> --category C...     register an upstream feed (options: --name N, --interval SECONDS,
                                       --full-content, --item-categories, --disabled)
  source list                          list sources and their polling state
  source poll <id>                     poll one source now and print the outcome
  source poll-due                      poll every due source once (what the SOURCE_POLL_CRON tick does)
  pglite-template                      build the migrated PGlite template used for fast first starts
`;

async function withDb<T>(fn: (handle: DbHandle) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const handle = await openDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: 2, preparedStatements: config.DATABASE_PREPARED_STATEMENTS, pgliteSharedBuffers: config.PGLITE_SHARED_BUFFERS });
  try {
    await migrateDb(handle);
    return await fn(handle);
  } finally {
    // PGlite keeps the process alive until closed.
    await handle.close();
  }
}

async function run(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  switch (command) {
    case 'migrate':
      await withDb(async () => {});
      process.stdout.write('migrations applied\n');
      return 0;
    case 'pglite-template':
      process.stdout.write(`${await buildPgliteTemplate()}\n`);
      return 0;
    case 'token': {
      if (sub === 'list') {
        await withDb(async ({ db }) => {
          for (const t of await listTokens(db)) {
            process.stdout.write(`${t.id}  ${t.name}  ${t.scopes.join(',')}  ${t.prefix}…  ${t.revokedAt ? 'revoked' : 'active'}\n`);
          }
        });
        return 0;
      }
      if (sub === 'create') {
        const { values } = parseArgs({ args: argv.slice(2), options: { name: { type: 'string' }, scope: { type: 'string', multiple: true } } });
        const scopes = (values.scope ?? ['ingest']) as Scope[];
        if (!values.name || scopes.some((s) => !(SCOPES as readonly string[]).includes(s))) {
          process.stderr.write(`token create needs --name and scopes among: ${SCOPES.join(', ')}\n`);
          return 2;
        }
        await withDb(async ({ db }) => {
          const { secret, prefix } = generateTokenSecret();
          const row = await insertToken(db, { name: values.name!, scopes, tokenHash: hashToken(secret), prefix, createdAt: new Date() });
          process.stdout.write(`id: ${row.id}\ntoken: ${secret}\n(the token is shown only now)\n`);
        });
        return 0;
      }
      break;
    }
    case 'refresh': {
      const config = loadConfig();
      await withDb(async (dbHandle) => {
        const deps = { config, db: dbHandle.db, dbHandle, log: createLogger('warn'), now: () => new Date(), metrics: createMetrics() };
        const feeds = new FeedRuntime(deps);
        process.stdout.write(`${JSON.stringify(await feeds.refresh('manual'))}\n`);
        await feeds.stop();
      });
      return 0;
    }
    case 'source':
      return runSource(sub, argv.slice(2));
    default:
      break;
  }
  process.stderr.write(USAGE);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}

/** `source …`: the same validation, storage and poll functions as the API and the cron job. */
async function runSource(sub: string | undefined, args: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const config = loadConfig();
  // Poll log lines go to stderr: stdout carries the command's answer.
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, pino.destination(2));
  const write = (text: string) => void out.write(`${text}\n`);
  switch (sub) {
    case 'add': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          category: { type: 'string', multiple: true },
          name: { type: 'string' },
          interval: { type: 'string' },
          'full-content': { type: 'boolean' },
          'item-categories': { type: 'boolean' },
          disabled: { type: 'boolean' },
        },
      });
      const interval = values.interval === undefined ? undefined : Number(values.interval);
      const parsed = createSourceSchema.safeParse({
        url: positionals[0] ?? '',
        categories: values.category ?? [],
        ...(values.name === undefined ? {} : { name: values.name }),
        ...(interval === undefined ? {} : { pollIntervalSeconds: interval }),
        fullContent: values['full-content'] ?? false,
        useItemCategories: values['item-categories'] ?? false,
        enabled: !values.disabled,
      });
      const errors = parsed.success ? privateUrlErrors(parsed.data.url, config) : zodIssuesToFieldErrors(parsed.error);
      if (!parsed.success || errors.length > 0) {
        const flags: Record<string, string> = { url: '<url>', categories: '--category', name: '--name', pollIntervalSeconds: '--interval' };
        for (const e of errors) process.stderr.write(`${flags[e.path.split('.')[0]!] ?? e.path}: ${e.message}\n`);
        process.stderr.write('usage: source add <url> --category "World" [--category …] [--name N] [--interval SECONDS]\n');
        return 2;
      }
      const input = parsed.data;
      return withDb(async ({ db }) => {
        const row = await insertSource(db, { ...input, name: input.name ?? new URL(input.url).hostname }, new Date());
        if (!row) {
          process.stderr.write(`a source with the URL ${displayUrl(input.url)} exists already\n`);
          return 1;
        }
        write(`source ${row.id} added: ${displayUrl(row.url)} → ${row.categories.join(', ')} (every ${row.pollIntervalSeconds} s${row.enabled ? ', due now' : ', disabled'})`);
        return 0;
      });
    }
    case 'list':
      return withDb(async ({ db }) => {
        const rows = await listSources(db);
        if (rows.length === 0) write('no sources');
        for (const s of rows) {
          const last = s.lastPollAt ? `${s.lastOutcome}${s.lastStatus ? ` ${s.lastStatus}` : ''} at ${s.lastPollAt.toISOString()}` : 'never polled';
          const next = s.enabled ? `next ${s.nextPollAt.toISOString()}` : 'disabled';
          const failures = s.consecutiveFailures > 0 ? `  ${s.consecutiveFailures} failures: ${s.lastError ?? ''}` : '';
          write(`${s.id}  ${s.name}  ${displayUrl(s.url)}  [${s.categories.join(', ')}]  ${last}  ${next}${failures}`);
        }
        return 0;
      });
    case 'poll':
    case 'poll-due': {
      const id = sub === 'poll' ? Number(args[0]) : null;
      if (sub === 'poll' && (!Number.isSafeInteger(id) || id! < 1)) {
        process.stderr.write('usage: source poll <id>\n');
        return 2;
      }
      return withDb(async (dbHandle) => {
        const deps = { config, db: dbHandle.db, dbHandle, log, now: () => new Date(), metrics: createMetrics() };
        let changed = 0;
        const pollDeps = { ...deps, onArticlesChanged: ({ count }: { count: number }) => void (changed += count) };
        let failed = false;
        if (id === null) {
          const summary = await pollDueSources(pollDeps);
          write(JSON.stringify({ claimed: summary.claimed, outcomes: summary.outcomes, itemsNew: summary.itemsNew, itemsUpdated: summary.itemsUpdated, durationMs: summary.durationMs }));
        } else {
          const claimed = await claimSource(dbHandle.db, id, { now: deps.now(), leaseMs: 10 * 60_000 });
          if (claimed === undefined || claimed === 'busy') {
            process.stderr.write(claimed === 'busy' ? `source ${id} is being polled right now\n` : `no source with id ${id}\n`);
            return 1;
          }
          const result = await pollSource(pollDeps, claimed);
          write(JSON.stringify(toPollResultJson(result)));
          failed = result.outcome === 'error' || result.outcome === 'gone' || result.outcome === 'skipped';
        }
        if (changed > 0) {
          // No running service to tell: render the changed feeds here.
          const feeds = new FeedRuntime(deps);
          await feeds.refresh('change');
          await feeds.stop();
        }
        return failed ? 1 : 0;
      });
    }
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
