import { lookup as systemLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkAddress } from './address-guard.js';

/**
 * Outbound HTTP to addresses we have vetted: the SSRF guard shared by the source poller
 * (fetch-feed.ts) and the WebSub hub (verification GETs, content pushes, hub pings). A host is
 * resolved here, every address it has is checked by the address guard, and the socket connects to
 * exactly those addresses (a `lookup` that answers from the vetted list), so a DNS answer that
 * changes between the check and the connect (rebinding) cannot reach a private address.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a hostname to every address it has; injectable so tests need no DNS. */
export type LookupHost = (hostname: string) => Promise<ResolvedAddress[]>;

export interface AddressPolicyOptions {
  allowPrivate: boolean;
  /** Exact IPs allowed even when allowPrivate is false (see address-guard.ts). */
  allowedAddresses?: readonly string[] | undefined;
  lookup?: LookupHost | undefined;
  /** Who is refused, for messages: "the poller", "the hub". */
  who: string;
}

/** A host that cannot be resolved (`dns`) or resolves to an address the policy refuses. */
export class AddressRefusedError extends Error {
  constructor(
    readonly code: 'dns' | 'forbidden-address',
    message: string,
  ) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

/** URL keeps IPv6 literals bracketed; the socket layer wants them bare. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

export async function lookupAll(hostname: string): Promise<ResolvedAddress[]> {
  const found = await systemLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

/**
 * Resolves `host` (an IP literal resolves to itself) and checks every address; throws
 * AddressRefusedError when it cannot be resolved or any address is refused. Refusing when any answer
 * is forbidden: a public name that also resolves to a private address is misconfigured or an attack,
 * and connecting to "the good one" invites a race.
 */
export async function resolveVetted(host: string, options: AddressPolicyOptions): Promise<ResolvedAddress[]> {
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal as 4 | 6 }];
  } else {
    try {
      addresses = await (options.lookup ?? lookupAll)(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new AddressRefusedError('dns', `cannot resolve ${host}: ${code}`);
    }
    if (addresses.length === 0) throw new AddressRefusedError('dns', `cannot resolve ${host}: no addresses`);
  }
  for (const { address } of addresses) {
    const verdict = checkAddress(address, { allowPrivate: options.allowPrivate, allowedAddresses: options.allowedAddresses });
    if (!verdict.allowed) {
      throw new AddressRefusedError('forbidden-address', `${host} resolves to ${address} (${verdict.reason}), which ${options.who} may not reach`);
    }
  }
  return addresses;
}

/** A lookup for http.request that answers only with addresses we already vetted: no second DNS query. */
export function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, opts, callback) => {
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : opts.family;
    const usable = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
    const chosen = usable[0];
    if (!chosen) {
      callback(Object.assign(new Error(`no vetted IPv${family} address`), { code: 'ENOTFOUND' }), '', 0);
    } else if (opts.all) {
      callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
    } else {
      callback(null, chosen.address, chosen.family);
    }
  };
}

export interface VettedRequest extends AddressPolicyOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string | string[]>;
  body?: Uint8Array | string;
  /** Budget for DNS, connect, headers and the (capped) body. */
  timeoutMs: number;
  /** Bytes of the response body kept; the rest is discarded. */
  maxResponseBytes: number;
  signal?: AbortSignal;
}

export interface VettedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Why an outbound request got no HTTP answer. */
export class OutboundError extends Error {
  constructor(
    readonly code: 'bad-url' | 'dns' | 'forbidden-address' | 'timeout' | 'connection' | 'aborted',
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

/**
 * One request, no redirects followed (a 3xx is returned as it is: WebSub callbacks must answer
 * themselves), to a vetted address. Resolves with the status and at most maxResponseBytes of body;
 * rejects with OutboundError when there is no answer.
 */
export async function vettedRequest(target: string, options: VettedRequest): Promise<VettedResponse> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new OutboundError('bad-url', `not a valid URL: ${target.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('bad-url', `${url.protocol} is not http or https`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.min(options.timeoutMs, 2_147_483_647));
  const onOuterAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const failure = (err: unknown): OutboundError => {
    if (err instanceof OutboundError) return err;
    if (options.signal?.aborted) return new OutboundError('aborted', 'aborted');
    if (controller.signal.aborted) return new OutboundError('timeout', `no answer within ${options.timeoutMs} ms`);
    if (err instanceof AddressRefusedError) return new OutboundError(err.code, err.message);
    const code = String((err as NodeJS.ErrnoException | undefined)?.code ?? '');
    return new OutboundError('connection', `connection failed: ${code || (err as Error).message}`);
  };
  try {
    const host = hostOf(url);
    const addresses = await resolveVetted(host, options);
    if (controller.signal.aborted) throw failure(null);
    return await new Promise<VettedResponse>((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request(
        {
          hostname: host,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method: options.method,
          headers: options.headers,
          // A fresh socket per request: a pooled socket could outlive the address check it was made under.
          agent: false,
          lookup: pinnedLookup(addresses),
          ...(isIP(host) === 0 ? { servername: host } : {}),
          signal: controller.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (chunk: Buffer) => {
            if (kept >= options.maxResponseBytes) return;
            const part = chunk.subarray(0, options.maxResponseBytes - kept);
            chunks.push(part);
            kept += part.length;
            // Enough read: stop the transfer rather than drain an endless body.
            if (kept >= options.maxResponseBytes) res.destroy();
          });
          const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, kept) });
          res.on('end', done);
          res.on('close', done);
          res.on('error', (err) => (kept >= options.maxResponseBytes ? done() : reject(failure(err))));
        },
      );
      req.on('error', (err) => reject(failure(err)));
      req.end(options.body);
    });
  } catch (err) {
    throw failure(err);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}
