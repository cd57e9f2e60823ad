import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { z } from '@hono/zod-openapi';

const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const STATUS_TEXT: Record<number, string> = {
  400: 'Malformed JSON or an invalid query parameter',
  401: 'Missing, unknown or revoked bearer token',
  403: 'The token lacks the scope this route needs',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body larger than BODY_LIMIT_BYTES',
  415: 'Body is not application/json',
  422: 'A field broke a rule; `errors` names each path',
};

/** OpenAPI response entries for the problem+json errors a route can answer. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: STATUS_TEXT[s] ?? 'Error', content: { 'application/problem+json': { schema: problemSchema } } }]),
  );
}

const require = createRequire(import.meta.url);
// Resolve the folder without loading the package: its index requires the 1.4 MB UI bundle, which
// would cost every start-up a few hundred milliseconds of parsing for a page few people open.
const SWAGGER_DIR: string = dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** GET /docs: Swagger UI over /openapi.json, every asset served by this service (no CDN). */
export function createDocsRouter() {
  const app = new Hono();
  const cache = new Map<string, Buffer>();
  app.get('/', (c) =>
    c.html(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>syndicate API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"><noscript>The interactive API reference needs JavaScript; the raw document is at <a href="/openapi.json">/openapi.json</a>.</noscript></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body></html>`),
  );
  app.get('/assets/init.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(`window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`);
  });
  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const type = ASSETS[name];
    if (!type) return c.notFound();
    let body = cache.get(name);
    if (!body) {
      body = await readFile(join(SWAGGER_DIR, name));
      cache.set(name, body);
    }
    c.header('Content-Type', type);
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(new Uint8Array(body));
  });
  return app;
}
