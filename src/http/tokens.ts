import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Deps } from '../deps.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { cleanPlainText } from '../domain/clean-text.js';
import { zodIssuesToFieldErrors } from '../domain/field-errors.js';
import { insertToken, listTokens, revokeToken, type TokenSummary } from '../storage/tokens.js';
import { generateTokenSecret, hashToken, requireScope, SCOPES, type AuthVariables } from './auth.js';
import { readJsonBody } from './json-body.js';
import { problemResponses } from './openapi.js';

const createTokenSchema = z.object({
  // Cleaned like every other label: a NUL would fail the insert (500), other control characters are noise.
  name: z.string().max(1000).transform(cleanPlainText).pipe(z.string().min(1, { message: 'must not be empty' }).max(200)),
  scopes: z.array(z.enum(SCOPES)).min(1, { message: 'must name at least one scope' }),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toTokenJson(t: TokenSummary) {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}

/** Admin-only token management. The secret is returned once, at creation; only its hash is stored. */
export function createTokensRouter(deps: Deps) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>();
  app.use('*', requireScope(deps, 'admin'));

  app.post('/', async (c) => {
    const parsed = createTokenSchema.safeParse(await readJsonBody(c));
    if (!parsed.success) throw new ValidationError(zodIssuesToFieldErrors(parsed.error));
    const { secret, prefix } = generateTokenSecret();
    const row = await insertToken(deps.db, {
      name: parsed.data.name,
      scopes: [...new Set(parsed.data.scopes)],
      tokenHash: hashToken(secret),
      prefix,
      createdAt: deps.now(),
    });
    c.header('Location', `/api/v1/tokens/${row.id}`);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...toTokenJson(row), token: secret }, 201);
  });

  app.get('/', async (c) => c.json({ items: (await listTokens(deps.db)).map(toTokenJson) }));

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    if (!UUID.test(id) || !(await revokeToken(deps.db, id, deps.now()))) throw new NotFoundError(`No token with id '${id}'.`);
    return c.body(null, 204);
  });

  const security = [{ bearerAuth: [] }];
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/',
    summary: 'Create a named token with scopes; the secret is shown once',
    tags: ['tokens'],
    security,
    request: { body: { required: true, content: { 'application/json': { schema: createTokenSchema } } } },
    responses: { 201: { description: 'The token, with its secret' }, ...problemResponses(400, 401, 403, 415, 422) },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    summary: 'List tokens (never their secrets)',
    tags: ['tokens'],
    security,
    responses: { 200: { description: 'Tokens' }, ...problemResponses(401, 403) },
  });
  app.openAPIRegistry.registerPath({
    method: 'delete',
    path: '/{id}',
    summary: 'Revoke a token (effective on the next request)',
    tags: ['tokens'],
    security,
    request: { params: z.object({ id: z.string().uuid() }) },
    responses: { 204: { description: 'Revoked' }, ...problemResponses(401, 403, 404) },
  });
  return app;
}
