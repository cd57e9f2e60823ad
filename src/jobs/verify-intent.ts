import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import { activateSubscription, deleteSubscription, type ActivateSubscription } from '../storage/websub.js';
import { OutboundError, vettedRequest, type AddressPolicyOptions } from '../upstream/vetted-http.js';

/** A subscription request accepted with 202, waiting for its verification of intent (WebSub §5.3). */
/** A subscribe or unsubscribe request awaiting verification: the subscription it would activate. */
export type Intent = Omit<ActivateSubscription, 'now'> & { mode: 'subscribe' | 'unsubscribe' };

export type VerifyOutcome =
  | { outcome: 'activated' | 'unsubscribed'; status: number }
  /** The subscriber answered 404: it does not want this (un)subscription. */
  | { outcome: 'refused'; status: number; reason: string }
  | { outcome: 'failed'; status: number | null; reason: string };

/** The callback with the verification parameters appended to its own query string (kept as it is). */
export function verificationUrl(intent: Intent, challenge: string): string {
  const params = new URLSearchParams({ 'hub.mode': intent.mode, 'hub.topic': intent.topic, 'hub.challenge': challenge });
  if (intent.mode === 'subscribe') params.set('hub.lease_seconds', String(intent.leaseSeconds));
  const base = new URL(intent.callback);
  // Appended by hand: re-serialising through URLSearchParams would re-encode the subscriber's own query.
  const separator = base.search === '' ? (intent.callback.endsWith('?') ? '' : '?') : '&';
  return `${intent.callback}${separator}${params.toString()}`;
}

/**
 * Verifies one intent: GETs the callback with hub.mode, hub.topic, a single-use random hub.challenge
 * and (for subscribe) hub.lease_seconds. Only a 2xx whose body is exactly the challenge confirms it;
 * then the subscription is stored (or removed). Redirects are not followed: the callback must answer.
 */
export async function verifyIntent(
  deps: Pick<Deps, 'db' | 'config' | 'now' | 'log' | 'upstream'>,
  intent: Intent,
  signal?: AbortSignal,
): Promise<VerifyOutcome> {
  const challenge = randomBytes(24).toString('base64url');
  let status: number;
  let body: string;
  try {
    const res = await vettedRequest(verificationUrl(intent, challenge), {
      method: 'GET',
      headers: { 'User-Agent': userAgent(deps.config.PUBLIC_BASE_URL), Accept: 'text/plain, */*;q=0.1' },
      timeoutMs: deps.config.WEBSUB_VERIFY_TIMEOUT_MS,
      maxResponseBytes: challenge.length + 1024,
      ...hubAddressPolicy(deps),
      ...(signal ? { signal } : {}),
    });
    status = res.status;
    body = res.body.toString('utf8');
  } catch (err) {
    const reason = err instanceof OutboundError ? `${err.code}: ${err.message}` : String(err);
    return { outcome: 'failed', status: null, reason };
  }
  if (status === 404) return { outcome: 'refused', status, reason: 'the subscriber answered 404' };
  if (status < 200 || status > 299) return { outcome: 'failed', status, reason: `the callback answered ${status}` };
  if (body !== challenge) return { outcome: 'failed', status, reason: 'the callback did not echo hub.challenge exactly' };
  if (intent.mode === 'subscribe') {
    await activateSubscription(deps.db, { ...intent, now: deps.now() });
    return { outcome: 'activated', status };
  }
  await deleteSubscription(deps.db, intent.topic, intent.callback);
  return { outcome: 'unsubscribed', status };
}

/** The address policy for every request the hub makes to a subscriber (and the check at subscribe). */
export function hubAddressPolicy(deps: Pick<Deps, 'config' | 'upstream'>): AddressPolicyOptions {
  return {
    allowPrivate: deps.config.WEBSUB_ALLOW_PRIVATE,
    allowedAddresses: deps.upstream?.allowedAddresses,
    lookup: deps.upstream?.lookup,
    who: 'the hub',
  };
}

export function userAgent(baseUrl: string): string {
  return `syndicate-websub/1 (+${baseUrl}/websub)`;
}
