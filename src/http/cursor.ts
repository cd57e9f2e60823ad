import { BadRequestError } from '../errors.js';
import type { ListCursor } from '../storage/articles.js';

/** Opaque keyset cursor: base64url of "<publishedAt ms>.<id>". */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(`${cursor.publishedAt.getTime()}.${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(value: string): ListCursor {
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  const m = /^(-?\d{1,15})\.(\d{1,18})$/.exec(decoded);
  if (!m) throw new BadRequestError('cursor is not valid', [{ path: 'cursor', message: 'is not a cursor returned by this API' }]);
  return { publishedAt: new Date(Number(m[1])), id: Number(m[2]) };
}
