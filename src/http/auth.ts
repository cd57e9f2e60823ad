import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { findActiveTokenByHash, touchToken } from '../storage/tokens.js';

export const SCOPES = ['ingest', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** 'admin-token' for ADMIN_TOKEN, else the api_tokens id. */
  tokenId: string;
  name: string;
  scopes: Scope[];
}

export type AuthVariables = { principal: Principal };

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new secret: 32 random bytes, prefixed so it is recognisable in a leaked-credential scan. */
export function generateTokenSecret(): { secret: string; prefix: string } {
  const secret = `syn_${randomBytes(32).toString('base64url')}`;
  return { secret, prefix: secret.slice(0, 10) };
}

function constantTimeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** Admin implies ingest. */
function grants(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed) || scopes.includes('admin');
}

/**
 * Requires `Authorization: Bearer <token>` with the given scope. ADMIN_TOKEN is compared in constant
 * time (as hashes, so lengths do not leak); stored tokens are looked up by their sha256.
 */
export function requireScope(deps: Deps, needed: Scope): MiddlewareHandler<{ Variables: AuthVariables }> {
  const adminHash = deps.config.ADMIN_TOKEN ? hashToken(deps.config.ADMIN_TOKEN) : null;
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedError();
    const presented = hashToken(match[1]!);
    let principal: Principal | null = null;
    if (adminHash && constantTimeEqualHex(presented, adminHash)) {
      principal = { tokenId: 'admin-token', name: 'ADMIN_TOKEN', scopes: ['admin'] };
    } else {
      const row = await findActiveTokenByHash(deps.db, presented);
      if (row && constantTimeEqualHex(presented, row.tokenHash)) {
        principal = { tokenId: row.id, name: row.name, scopes: row.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)) };
        touchToken(deps.db, row.id, deps.now()).catch((err: unknown) => deps.log.warn({ err }, 'could not record token use'));
      }
    }
    if (!principal) throw new UnauthorizedError('The bearer token is unknown or revoked.', 'unknown or revoked token');
    if (!grants(principal.scopes, needed)) {
      throw new ForbiddenError(`This route needs a token with the '${needed}' scope; this token has: ${principal.scopes.join(', ') || 'none'}.`);
    }
    c.set('principal', principal);
    await next();
  };
}
