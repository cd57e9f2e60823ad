import type { Deps } from '../deps.js';
import { feedUrls } from '../domain/feed-builder.js';
import { advertisedHubs, feedLinkHeader, retryDelayMs, signBody } from '../domain/websub.js';
import { CONTENT_TYPES } from '../http/feed-response.js';
import { deleteSubscriptionById, enqueueTopicChange, findStaleTopics, type ClaimedDelivery, type DeliveryOutcome } from '../storage/websub.js';
import { OutboundError, vettedRequest } from '../upstream/vetted-http.js';
import { hubAddressPolicy, userAgent } from './verify-intent.js';

type JobDeps = Pick<Deps, 'db' | 'config' | 'now' | 'log' | 'upstream' | 'fetch' | 'metrics'>;

export interface EnqueueSummary {
  /** Topic changes this instance recorded (it moved their cursor). */
  changes: number;
  deliveries: number;
  /** Topic URLs this instance owns the change of: the ones to ping external hubs about. */
  changedTopics: string[];
}

/**
 * Turns snapshot changes into stored deliveries: for every feed × format whose snapshot is newer
 * than its topic's last push, records the change once (whichever instance gets there first) with a
 * pending delivery per active subscriber. Safe to run anywhere and often: a change already recorded
 * costs one conditional update.
 */
export async function enqueueChanges(deps: JobDeps, feedKeys?: string[]): Promise<EnqueueSummary> {
  const external = deps.config.WEBSUB_HUBS;
  const stale = await findStaleTopics(deps.db, { ...(feedKeys ? { feedKeys } : {}), includeUntracked: external.length > 0 });
  const summary: EnqueueSummary = { changes: 0, deliveries: 0, changedTopics: [] };
  for (const s of stale) {
    const topic = s.topic ?? feedUrls(deps.config.PUBLIC_BASE_URL, s.feedKey)[s.format];
    const result = await enqueueTopicChange(deps.db, {
      topic,
      feedKey: s.feedKey,
      format: s.format,
      contentType: CONTENT_TYPES[s.format],
      now: deps.now(),
    });
    if (!result.won) continue;
    summary.changes += 1;
    summary.deliveries += result.deliveries;
    summary.changedTopics.push(topic);
  }
  if (summary.deliveries > 0) deps.metrics.websubDeliveries.inc({ outcome: 'enqueued' }, summary.deliveries);
  return summary;
}

/**
 * Sends one claimed delivery (WebSub §7): POST of the full feed body with its Content-Type, Link
 * rel=hub and rel=self, and X-Hub-Signature when the subscriber gave a secret. 2xx delivered; 410
 * removes the subscription; anything else is retried with exponential back-off until the last
 * attempt, then given up and recorded. Returns null when the attempt was aborted (shutdown): the
 * caller gives the delivery back untried.
 */
export async function sendDelivery(deps: JobDeps, d: ClaimedDelivery, signal?: AbortSignal): Promise<DeliveryOutcome | { state: 'gone' } | null> {
  if (d.expiresAt.getTime() <= deps.now().getTime()) return { state: 'cancelled', error: 'the lease expired before delivery' };
  const headers: Record<string, string> = {
    'Content-Type': d.contentType,
    Link: feedLinkHeader(advertisedHubs(deps.config.PUBLIC_BASE_URL, deps.config.WEBSUB_HUBS), d.topic),
    'User-Agent': userAgent(deps.config.PUBLIC_BASE_URL),
  };
  if (d.secret !== null) headers['X-Hub-Signature'] = signBody(d.secret, d.body);
  let status: number | null = null;
  let error: string;
  try {
    const res = await vettedRequest(d.callback, {
      method: 'POST',
      headers,
      body: d.body,
      timeoutMs: deps.config.WEBSUB_DELIVERY_TIMEOUT_MS,
      maxResponseBytes: 1024,
      ...hubAddressPolicy(deps),
      ...(signal ? { signal } : {}),
    });
    status = res.status;
    if (status >= 200 && status <= 299) return { state: 'delivered', status };
    if (status === 410) return { state: 'gone' };
    error = `the callback answered ${status}`;
  } catch (err) {
    if (err instanceof OutboundError && err.code === 'aborted') return null;
    error = err instanceof OutboundError ? `${err.code}: ${err.message}` : String(err);
  }
  if (d.attempts >= deps.config.WEBSUB_DELIVERY_MAX_ATTEMPTS) {
    return { state: 'failed', status, error: `gave up after ${d.attempts} attempts; last: ${error}` };
  }
  const delay = retryDelayMs(d.attempts, deps.config.WEBSUB_RETRY_BASE_MS, Math.random());
  return { state: 'retry', status, error, nextAttemptAt: new Date(deps.now().getTime() + delay) };
}

/** Handles a 410: the subscriber is gone, and so are its pending deliveries. */
export async function dropGoneSubscriber(deps: JobDeps, d: ClaimedDelivery): Promise<void> {
  await deleteSubscriptionById(deps.db, d.subscriptionId);
  deps.log.info({ topic: d.topic, callback: d.callback }, 'websub subscriber answered 410: subscription removed');
}

/**
 * Tells each external hub (WEBSUB_HUBS) that a topic changed: POST hub.mode=publish&hub.url=<topic>
 * (the common publish ping; WebSub §6 leaves the mechanism open). Best effort: a failure is logged
 * and counted, the hub will still see the change when it next fetches.
 */
export async function pingHubs(deps: JobDeps, topics: string[]): Promise<void> {
  for (const hub of deps.config.WEBSUB_HUBS) {
    for (const topic of topics) {
      try {
        const res = await deps.fetch(hub, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': userAgent(deps.config.PUBLIC_BASE_URL) },
          body: new URLSearchParams({ 'hub.mode': 'publish', 'hub.url': topic }).toString(),
          signal: AbortSignal.timeout(deps.config.WEBSUB_DELIVERY_TIMEOUT_MS),
          redirect: 'manual',
        });
        await res.arrayBuffer().catch(() => undefined);
        deps.metrics.websubHubPings.inc({ outcome: res.ok ? 'ok' : 'error' });
        if (!res.ok) deps.log.warn({ hub, topic, status: res.status }, 'websub hub ping refused');
      } catch (err) {
        deps.metrics.websubHubPings.inc({ outcome: 'error' });
        deps.log.warn({ err, hub, topic }, 'websub hub ping failed');
      }
    }
  }
}
