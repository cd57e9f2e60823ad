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

const USAGE = `syndicate command line (npm run cli -- <command>)

  migrate                              apply migrations to DATABASE_URL or the PGlite DATA_DIR
  token create --name N --scope S...   create an API token (scopes: ${SCOPES.join(', ')}); prints the secret once
  token list                           list tokens (never their secrets)
  refresh                              re-render every feed now
  pglite-template                      build the migrated PGlite template used for fast first starts
`;

async function withDb<T>(fn: (handle: DbHandle) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const handle = await openDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: 2 });
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
    default:
      break;
  }
  process.stderr.write(USAGE);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
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
