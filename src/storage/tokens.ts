import { and, asc, eq, isNull, lt, or } from 'drizzle-orm';
import type { Database } from './db.js';
import { apiTokens } from './schema.js';

export type TokenRow = typeof apiTokens.$inferSelect;
export type TokenSummary = Omit<TokenRow, 'tokenHash'>;

const summaryColumns = {
  id: apiTokens.id,
  name: apiTokens.name,
  scopes: apiTokens.scopes,
  prefix: apiTokens.prefix,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
};

export async function insertToken(
  db: Database,
  token: { name: string; scopes: string[]; tokenHash: string; prefix: string; createdAt: Date },
): Promise<TokenSummary> {
  const [row] = await db.insert(apiTokens).values(token).returning(summaryColumns);
  return row!;
}

/** Every token, revoked ones included (an audit trail), never with its hash. */
export async function listTokens(db: Database): Promise<TokenSummary[]> {
  return db.select(summaryColumns).from(apiTokens).orderBy(asc(apiTokens.createdAt), asc(apiTokens.id));
}

export async function findActiveTokenByHash(db: Database, tokenHash: string): Promise<TokenRow | undefined> {
  const rows = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
    .limit(1);
  return rows[0];
}

/** Marks a token revoked; false when there is no such token. Revoking twice keeps the first time. */
export async function revokeToken(db: Database, id: string, now: Date): Promise<boolean> {
  const existing = await db.select({ id: apiTokens.id }).from(apiTokens).where(eq(apiTokens.id, id)).limit(1);
  if (existing.length === 0) return false;
  await db.update(apiTokens).set({ revokedAt: now }).where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)));
  return true;
}

/** Records use at most once a minute per token, so auth does not add a write to every request. */
export async function touchToken(db: Database, id: string, now: Date): Promise<void> {
  const threshold = new Date(now.getTime() - 60_000);
  await db
    .update(apiTokens)
    .set({ lastUsedAt: now })
    .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, threshold))));
}
