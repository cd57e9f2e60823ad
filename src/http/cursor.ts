import { BadRequestError } from '../errors.js';
import type { ListCursor } from '../storage/articles.js';

/** Opaque keyset cursor: base64url of "<publishedAt ms>.<id>". */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(`${cursor.publishedAt.getTime()}.${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(value: string): ListCursor {
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  const m = /^(-?\d{1,15})\.(\d{1,18})$/.exec(decoded);
  const ms = m ? Number(m[1]) : NaN;
  const id = m ? Number(m[2]) : NaN;
  // Bounded to what can be stored: an out-of-range date would fail in toISOString() or in Postgres (500).
  if (!(ms >= EARLIEST_MS && ms <= LATEST_MS) || !Number.isSafeInteger(id)) {
    throw new BadRequestError('cursor is not valid', [{ path: 'cursor', message: 'is not a cursor returned by this API' }]);
  }
  return { publishedAt: new Date(ms), id };
}

const EARLIEST_MS = Date.parse('0001-01-01T00:00:00Z');
const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');
