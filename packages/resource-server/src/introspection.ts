import { invalidToken } from './errors.js';

export interface IntrospectionOptions {
  /** The service's own confidential client at Warden (RFC 7662 §2.1: the endpoint needs client authentication). */
  clientId: string;
  clientSecret: string;
  /** Default: the discovery document's `introspection_endpoint`. */
  endpoint?: string;
  /**
   * How long an "active" answer is trusted before Warden is asked again (default 0: every request asks,
   * so a revocation is seen at the next request). A few seconds spare Warden under bursts.
   */
  cacheSeconds?: number;
}

/** Asks Warden whether a token is still active (RFC 7662 §2): revoked, logged out or disabled users show here. */
export function introspector(opts: IntrospectionOptions, endpoint: () => Promise<string>, fetchFn: typeof fetch) {
  // RFC 6749 §2.3.1: the client id and secret are form-urlencoded before they are base64-encoded.
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`).toString('base64')}`;
  return async function introspect(token: string): Promise<void> {
    const res = await fetchFn(opts.endpoint ?? (await endpoint()), {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`introspection answered HTTP ${res.status}`);
    const answer = (await res.json()) as { active?: unknown };
    if (answer.active !== true) throw invalidToken('the access token is no longer active');
  };
}
