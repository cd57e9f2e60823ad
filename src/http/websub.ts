import { Hono, type Context } from 'hono';
import type { Deps } from '../deps.js';
import { grantLease, MAX_SECRET_BYTES, parseCallback, parseTopic } from '../domain/websub.js';
import type { FeedRuntime } from '../feed-runtime.js';
import type { Realtime } from '../realtime.js';
import { findSubscription } from '../storage/websub.js';
import { hubAddressPolicy } from '../jobs/verify-intent.js';
import { AddressRefusedError, hostOf, resolveVetted } from '../upstream/vetted-http.js';

/** A subscription request body is a handful of fields; anything larger is not one. */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * The hub (W3C WebSub §5): POST /websub, application/x-www-form-urlencoded, hub.mode subscribe or
 * unsubscribe. Problems a subscriber can fix are answered at once with a 4xx and a plain-text reason
 * (the spec's "body describing the reason"); an acceptable request gets 202 and is verified
 * asynchronously by GETting the callback (Realtime's verification queue).
 */
export function createWebsubRouter(deps: Deps, feeds: FeedRuntime, realtime: Realtime) {
  const app = new Hono();
  const base = deps.config.PUBLIC_BASE_URL;

  const refuse = (c: Context, status: 400 | 404 | 413 | 415 | 503, reason: string) => {
    c.header('Cache-Control', 'no-store');
    return c.text(`${reason}\n`, status);
  };

  app.get('/websub', (c) =>
    c.text(
      `WebSub hub of ${deps.config.SITE_TITLE}. Subscribe with POST ${base}/websub (application/x-www-form-urlencoded): ` +
        `hub.mode=subscribe|unsubscribe, hub.topic=<one of our feed URLs>, hub.callback=<your URL>, optional hub.lease_seconds and hub.secret.\n`,
    ),
  );

  app.post('/websub', async (c) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      return refuse(c, 415, 'the request body must be application/x-www-form-urlencoded');
    }
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > MAX_BODY_BYTES) return refuse(c, 413, `the request body must be at most ${MAX_BODY_BYTES} bytes`);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > MAX_BODY_BYTES) return refuse(c, 413, `the request body must be at most ${MAX_BODY_BYTES} bytes`);
    const form = new URLSearchParams(new TextDecoder().decode(bytes));

    const mode = form.get('hub.mode');
    if (mode !== 'subscribe' && mode !== 'unsubscribe') return refuse(c, 400, 'hub.mode must be subscribe or unsubscribe');
    const topicValue = form.get('hub.topic');
    if (!topicValue) return refuse(c, 400, 'hub.topic is required');
    const topic = parseTopic(topicValue, base);
    if (!topic.ok) return refuse(c, 400, topic.reason);
    const callbackValue = form.get('hub.callback');
    if (!callbackValue) return refuse(c, 400, 'hub.callback is required');
    const callback = parseCallback(callbackValue);
    if (!callback.ok) return refuse(c, 400, callback.reason);

    let leaseSeconds = grantLease(undefined, { defaultSeconds: deps.config.WEBSUB_LEASE_DEFAULT_SECONDS, maxSeconds: deps.config.WEBSUB_LEASE_MAX_SECONDS });
    const leaseValue = form.get('hub.lease_seconds');
    if (leaseValue !== null && leaseValue !== '') {
      if (!/^\d{1,10}$/.test(leaseValue) || Number(leaseValue) < 1) return refuse(c, 400, 'hub.lease_seconds must be a positive integer');
      leaseSeconds = grantLease(Number(leaseValue), { defaultSeconds: deps.config.WEBSUB_LEASE_DEFAULT_SECONDS, maxSeconds: deps.config.WEBSUB_LEASE_MAX_SECONDS });
    }
    const secret = form.get('hub.secret');
    if (secret !== null && Buffer.byteLength(secret, 'utf8') > MAX_SECRET_BYTES) {
      return refuse(c, 400, `hub.secret must be less than 200 bytes (got ${Buffer.byteLength(secret, 'utf8')})`);
    }

    // The feed must exist (this also renders a feed nobody has asked for yet).
    const snapshot = await feeds.getSnapshot(topic.feedKey, topic.format);
    if (!snapshot) return refuse(c, 404, `hub.topic ${topic.topic} is not a feed this hub serves`);

    if (mode === 'unsubscribe') {
      const existing = await findSubscription(deps.db, topic.topic, callbackValue);
      if (!existing) return refuse(c, 404, 'there is no subscription for this hub.topic and hub.callback');
    }

    // Checked as sources are: every address the callback's host resolves to must be allowed. The
    // same check runs again, pinned to the vetted addresses, on every request the hub makes.
    try {
      await resolveVetted(hostOf(callback.url), hubAddressPolicy(deps));
    } catch (err) {
      if (err instanceof AddressRefusedError) {
        const hint = err.code === 'forbidden-address' && !deps.config.WEBSUB_ALLOW_PRIVATE ? ' (WEBSUB_ALLOW_PRIVATE=false)' : '';
        return refuse(c, 400, `hub.callback refused: ${err.message}${hint}`);
      }
      throw err;
    }

    const queued = realtime.requestVerification({
      mode,
      topic: topic.topic,
      feedKey: topic.feedKey,
      format: topic.format,
      callback: callbackValue,
      secret: secret === null || secret === '' ? null : secret,
      leaseSeconds,
    });
    if (!queued) {
      c.header('Retry-After', '60');
      return refuse(c, 503, 'too many subscription requests are waiting for verification; retry later');
    }
    c.header('Cache-Control', 'no-store');
    return c.text(`${mode} request accepted: the hub will verify it with a GET to the callback\n`, 202);
  });

  return app;
}
