import { z } from 'zod';
import cron from 'node-cron';

/**
 * The only reader of process.env. Parsed once at start-up; an invalid value stops the process with a
 * message naming the variable and the reason.
 */

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const cronExpression = z.string().refine((v) => cron.validate(v), { message: 'must be a valid cron expression' });

/** A comma- or space-separated list of absolute http(s) URLs. */
const httpUrlList = z
  .string()
  .transform((v) => v.split(/[\s,]+/).filter((u) => u !== ''))
  .refine((list) => list.every((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol)), {
    message: 'must be absolute http(s) URLs separated by commas',
  });

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  /**
   * Prepared statements for the service's queries on Postgres (src/storage/prepared-statements.ts).
   * Off for a proxy that does not support them (a pooler must run in session mode anyway, for the
   * advisory locks and LISTEN: docs/operations.md).
   */
  DATABASE_PREPARED_STATEMENTS: bool.default(true),
  DATA_DIR: z.string().default('./data'),
  /**
   * PGlite's buffer pool. PostgreSQL's 128MB default cost ~0.4 s of every start (PGlite touches the
   * whole pool as it starts) and ~130 MB of memory; see decision 0010 for the workload measured.
   */
  PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^[1-9][0-9]*(kB|MB|GB)$/, { message: 'must be a PostgreSQL size such as 16MB' })
    .default('16MB'),
  PUBLIC_BASE_URL: z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
      message: 'must be an absolute http(s) URL such as https://news.example.co.uk',
    })
    .optional(),
  SITE_TITLE: z.string().min(1).default('Syndicate'),
  SITE_DESCRIPTION: z.string().min(1).default('News feeds'),
  SITE_LANGUAGE: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, { message: 'must be a BCP 47 language tag such as en-GB' })
    .default('en-GB'),
  ADMIN_TOKEN: z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(5 * 1024 * 1024),
  FEED_ITEM_LIMIT: z.coerce.number().int().min(1).max(200).default(50),
  FEED_REFRESH_CRON: cronExpression.default('* * * * *'),
  FEED_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(60),
  FEED_CACHE_MAX_BYTES: z.coerce.number().int().min(0).default(64 * 1024 * 1024),
  SOURCE_POLL_CRON: cronExpression.default('* * * * *'),
  SOURCE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  SOURCE_ALLOW_PRIVATE: bool.default(false),
  SOURCE_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  SOURCE_MAX_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(65_000),
  // WebSub (issue 7): our hub at PUBLIC_BASE_URL/websub, plus external hubs advertised and pinged.
  WEBSUB_HUBS: httpUrlList.default([]),
  WEBSUB_ALLOW_PRIVATE: bool.default(false),
  WEBSUB_LEASE_DEFAULT_SECONDS: z.coerce.number().int().min(60).default(10 * 24 * 3600),
  WEBSUB_LEASE_MAX_SECONDS: z.coerce.number().int().min(60).default(30 * 24 * 3600),
  WEBSUB_VERIFY_TIMEOUT_MS: z.coerce.number().int().min(50).default(10_000),
  WEBSUB_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(50).default(10_000),
  WEBSUB_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  WEBSUB_DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** First retry delay; doubles per attempt (capped at an hour), with up to 20 % jitter. */
  WEBSUB_RETRY_BASE_MS: z.coerce.number().int().min(1).default(30_000),
  /** Sweep for due retries, deliveries left by a stopped instance, and expired leases (seconds field allowed). */
  WEBSUB_SWEEP_CRON: cronExpression.default('*/10 * * * * *'),
  // Reader statistics (issue 7): counted in memory, written in batches.
  STATS_ENABLED: bool.default(true),
  STATS_FLUSH_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
  /** Take the client address from the first X-Forwarded-For entry (behind a trusted proxy or CDN). */
  STATS_TRUST_FORWARDED_FOR: bool.default(false),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Omit<Env, 'PUBLIC_BASE_URL'> {
  /** Absolute base for every link we emit, without a trailing slash. */
  PUBLIC_BASE_URL: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment (process.env by default) into a Config, or throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned: Record<string, unknown> = {};
  for (const key of Object.keys(envSchema.shape)) cleaned[key] = emptyToUndefined(env[key]);
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '?'), message: issue.message })),
    );
  }
  const value = parsed.data;
  const base = (value.PUBLIC_BASE_URL ?? `http://localhost:${value.PORT}`).replace(/\/+$/, '');
  return { ...value, PUBLIC_BASE_URL: base };
}
