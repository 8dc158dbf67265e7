import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { discovery } from './discovery.js';
import { invalidRequest, invalidToken, missingToken } from './errors.js';
import { introspector, type IntrospectionOptions } from './introspection.js';
import { RemoteKeySet } from './key-set.js';

export interface VerifierOptions {
  /** Warden's issuer, exactly as its discovery document and its tokens' `iss` say it. */
  issuer: string;
  /** This service's identifier at Warden: a token is accepted only when its `aud` names it. */
  audience: string | string[];
  /** Pinned signature algorithms (default EdDSA and ES256); `none` and HMAC can never be chosen by a token. */
  algorithms?: string[];
  /** Leeway for `exp`, `nbf` and `iat` against this machine's clock (default 0). */
  clockToleranceSeconds?: number;
  /** Ask Warden's /introspect about every token too (RFC 7662), to see a revocation at once. */
  introspection?: IntrospectionOptions;
  /** At most one JWKS refetch for an unknown `kid` per this many seconds (default 30). */
  jwksCooldownSeconds?: number;
  /** Keys are fetched again after this many seconds (default 600). */
  jwksMaxAgeSeconds?: number;
  /** Verified tokens remembered until they expire (default 1000; 0 turns it off). */
  cacheSize?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
}

/** Who called, as the token says. */
export interface Principal {
  sub: string;
  /** RFC 9068 `client_id`: the application the token was issued to. */
  clientId: string | undefined;
  scopes: string[];
  roles: string[];
  claims: JWTPayload;
}

export interface Verifier {
  /** The principal of a valid access token, or a WardenAuthError (invalid_token). */
  verify(token: string): Promise<Principal>;
  /** The same from an `Authorization` header value (RFC 6750 §2.1). */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

const DEFAULT_ALGORITHMS = ['EdDSA', 'ES256'];
// RFC 6750 §2.1 b64token.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

interface Cached {
  token: string;
  principal: Principal;
  expiresAtMs: number;
  checkedAtMs: number;
}

export function createVerifier(options: VerifierOptions): Verifier {
  const { issuer, audience } = options;
  if (!issuer) throw new TypeError('createVerifier: issuer is required');
  if (!audience || (Array.isArray(audience) && audience.length === 0)) throw new TypeError('createVerifier: audience is required');
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.some((a) => a === 'none' || a.startsWith('HS'))) {
    throw new TypeError('createVerifier: algorithms must be asymmetric (a JWKS has no shared secrets)');
  }
  const fetchFn = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const toleranceS = options.clockToleranceSeconds ?? 0;
  const cacheSize = options.cacheSize ?? 1000;
  const metadata = discovery(issuer, fetchFn);
  const keys = new RemoteKeySet({
    jwksUri: async () => (await metadata()).jwks_uri,
    cooldownMs: (options.jwksCooldownSeconds ?? 30) * 1000,
    maxAgeMs: (options.jwksMaxAgeSeconds ?? 600) * 1000,
    fetch: fetchFn,
    now,
  });
  const introspect = options.introspection
    ? introspector(
        options.introspection,
        async () => {
          const endpoint = (await metadata()).introspection_endpoint;
          if (!endpoint) throw new Error('the discovery document has no introspection_endpoint');
          return endpoint;
        },
        fetchFn,
      )
    : undefined;
  const introspectMs = (options.introspection?.cacheSeconds ?? 0) * 1000;
  // Keyed by the signature segment (short, as unique as the token); a hit must still be the same token.
  const cache = new Map<string, Cached>();

  async function verifySignedToken(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        issuer,
        audience,
        algorithms,
        // RFC 9068 §4: an access token says so in its header; an id_token (typ JWT) is refused here.
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: toleranceS,
        currentDate: new Date(now()),
      }));
    } catch (e) {
      if (e instanceof joseErrors.JOSEError) throw invalidToken(describe(e));
      throw e;
    }
    return principalOf(payload);
  }

  async function verify(token: string): Promise<Principal> {
    if (typeof token !== 'string' || !B64TOKEN.test(token)) throw invalidToken('the access token is malformed');
    const t = now();
    const key = token.slice(token.lastIndexOf('.') + 1);
    const hit = cache.get(key);
    if (hit && hit.token === token && t < hit.expiresAtMs) {
      if (introspect && t - hit.checkedAtMs >= introspectMs) {
        await introspectOrForget(token, key);
        hit.checkedAtMs = t;
      }
      return hit.principal;
    }
    const principal = await verifySignedToken(token);
    if (introspect) await introspectOrForget(token, key);
    if (cacheSize > 0) {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
      cache.set(key, { token, principal, expiresAtMs: (principal.claims.exp! + toleranceS) * 1000, checkedAtMs: t });
    }
    return principal;
  }

  async function introspectOrForget(token: string, key: string) {
    try {
      await introspect!(token);
    } catch (e) {
      cache.delete(key);
      throw e;
    }
  }

  return {
    verify,
    async authenticate(authorization) {
      if (!authorization) throw missingToken();
      const space = authorization.indexOf(' ');
      if (space < 0 || authorization.slice(0, space).toLowerCase() !== 'bearer') {
        // §3.1: a request with another scheme carries no bearer credentials at all.
        if (authorization.toLowerCase() === 'bearer') throw invalidRequest('the Authorization header has no token');
        throw missingToken();
      }
      const token = authorization.slice(space + 1).trim();
      if (!token || token.includes(' ')) throw invalidRequest('the Authorization header must be "Bearer <token>"');
      return verify(token);
    },
  };
}

function principalOf(payload: JWTPayload): Principal {
  const scope = typeof payload.scope === 'string' ? payload.scope : '';
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
  return {
    sub: payload.sub!,
    clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
    scopes: scope.split(' ').filter(Boolean),
    roles,
    claims: payload,
  };
}

/** A reason safe to send: jose's messages name the claim that failed, never the token's content. */
function describe(e: InstanceType<typeof joseErrors.JOSEError>): string {
  if (e instanceof joseErrors.JWTExpired) return 'the access token has expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'typ') return 'not an access token (RFC 9068 typ at+jwt)';
    if (e.claim === 'aud') return 'the access token is for another audience';
    if (e.claim === 'iss') return 'the access token is from another issuer';
    return `the access token's ${e.claim} claim is invalid`;
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'the access token is signed with an algorithm this service does not accept';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'the access token is signed by an unknown key';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'the access token signature is invalid';
  return 'the access token is invalid';
}


