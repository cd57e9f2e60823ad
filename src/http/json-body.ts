import type { Context } from 'hono';
import { BadRequestError, UnsupportedMediaTypeError } from '../errors.js';

/**
 * Reads a JSON request body: 415 when it is not declared as JSON, 400 when it does not parse. The size
 * limit (413) is enforced before this by the bodyLimit middleware.
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new UnsupportedMediaTypeError(
      type ? `Content-Type ${type} is not supported; send application/json.` : 'The request has no Content-Type; send application/json.',
    );
  }
  const text = await c.req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`The body is not valid JSON: ${(err as Error).message}`);
  }
}
