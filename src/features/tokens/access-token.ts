import type { Clock } from '../../kernel/clock.js';
import type { Config } from '../../kernel/config/load.js';
import { uuidv7, uuidv7Time } from './jti.js';
import { signJwt, verifyJwt, TokenError, type JWTPayload } from './jwt.js';
import type { SigningKeys } from './signing-keys.js';

/** The settings access tokens are issued and checked with. */
export type AccessTokenSettings = Pick<Config, 'TOKEN_CACHE_SIZE' | 'accessTokenTtlSeconds' | 'audience' | 'issuer'>;

export interface AccessClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  iat: number;
  scope: string;
  roles?: string[];
  /** RFC 9068 §2.2; the verifier refuses a token without it. */
  client_id: string;
  /** Session: the refresh-token family this token was issued with. */
  sid?: string;
  /** Grant type for tokens that act for a client, not a user (Auth0's `gty`). */
  gty?: string;
}

export interface IssueAccessToken {
  subject: string;
  scope: string;
  roles?: string[] | undefined;
  /** RFC 9068 §2.2: required; the verifier refuses a token without one. */
  clientId: string;
  grant?: string | undefined;
  sessionId?: string | undefined;
  audience?: string | string[] | undefined;
  /**
   * Another API's lifetime (RFC 8707 resource). For Warden's own API, never longer than the setting:
   * its verifier refuses a token that lives longer.
   */
  ttlSeconds?: number | undefined;
}

/** RFC 9068 §2.1: the header `typ` of a JWT access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** A token whose signature and registered claims were checked, with what every request asks of it. */
export interface VerifiedToken {
  readonly claims: AccessClaims;
  readonly scopes: ReadonlySet<string>;
  /** When it was issued, to the millisecond (its UUIDv7 jti), else to the second (iat). */
  readonly issuedAtMs: number;
}

/** A cached verification and the exact token string it is for. */
interface CachedToken {
  readonly token: string;
  readonly verified: VerifiedToken;
}

/**
 * The cache key of a token: its signature segment. Each request's Authorization header is a new string,
 * so a map keyed by the whole ~500-character token hashes all of it on every lookup; the signature is
 * 43–86 characters and as distinct. A hit still needs the whole token to be
 * equal (a memory compare), so a forged header or payload under a real signature is no hit.
 */
function cacheKey(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

/**
 * Issues and verifies access tokens. A token verified once is remembered (bounded map; a hit is the
 * exact token string) until it expires: signature checks, not Fastify, bound a protected route's speed.
 * Revocation and user state are checked on every request by the caller, after this cache.
 */
export class AccessTokens {
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly config: AccessTokenSettings,
    private readonly clock: Clock,
  ) {}

  async issue(req: IssueAccessToken): Promise<{ token: string; claims: AccessClaims; expiresIn: number }> {
    const nowMs = this.clock.now();
    const now = Math.floor(nowMs / 1000);
    const ttl = req.ttlSeconds ?? this.config.accessTokenTtlSeconds;
    const jti = uuidv7(nowMs);
    const claims: Record<string, unknown> = { scope: req.scope };
    if (req.roles) claims.roles = req.roles;
    claims.client_id = req.clientId;
    if (req.grant) claims.gty = req.grant;
    if (req.sessionId) claims.sid = req.sessionId;
    const audience = req.audience ?? this.config.audience;
    const token = await signJwt(claims, this.keys.signingKey(), {
      issuer: this.config.issuer,
      audience,
      subject: req.subject,
      expiresInSeconds: ttl,
      nowSeconds: now,
      jti,
      // RFC 9068 §2.1, every algorithm: a JWT of another kind (an id_token) is never an access token.
      typ: ACCESS_TOKEN_TYP,
    });
    return { token, claims: { ...claims, sub: req.subject, jti, iat: now, exp: now + ttl, iss: this.config.issuer } as AccessClaims, expiresIn: ttl };
  }

  /** Verified claims, or TokenError. */
  async verify(token: string): Promise<AccessClaims> {
    return (await this.verifyToken(token)).claims;
  }

  /** The cached verification of this exact token string, if it is still unexpired (no await: the hot path). */
  cached(token: string): VerifiedToken | undefined {
    const key = cacheKey(token);
    const hit = this.cache.get(key);
    if (hit?.token !== token) return undefined;
    if (hit.verified.claims.exp > Math.floor(this.clock.now() / 1000)) return hit.verified;
    this.cache.delete(key);
    return undefined;
  }

  /** Verified token, or TokenError. */
  async verifyToken(token: string): Promise<VerifiedToken> {
    const hit = this.cached(token);
    if (hit) return hit;
    const nowS = Math.floor(this.clock.now() / 1000);
    const payload = await verifyJwt(token, {
      issuer: this.config.issuer,
      audience: this.config.audience,
      algorithms: [this.keys.algorithm],
      nowSeconds: nowS,
      resolveKey: (kid, alg) => this.keys.verificationKey(kid, alg),
      typ: ACCESS_TOKEN_TYP,
      // RFC 9068 §2.2: every access token names its client (the password grant's without one: BUILT_IN_CLIENT_ID).
      requiredClaims: ['jti', 'client_id'],
      maxLifetimeSeconds: this.config.accessTokenTtlSeconds,
    });
    if (typeof payload.jti !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number' || typeof payload.client_id !== 'string') {
      throw new TokenError('ERR_JWT_CLAIM_VALIDATION_FAILED', 'token lacks required claims');
    }
    const claims = { ...payload, scope: typeof payload.scope === 'string' ? payload.scope : '' } as AccessClaims;
    const verified: VerifiedToken = {
      claims,
      scopes: new Set(claims.scope.split(' ').filter(Boolean)),
      issuedAtMs: uuidv7Time(claims.jti) ?? claims.iat * 1000,
    };
    if (this.config.TOKEN_CACHE_SIZE > 0) {
      if (this.cache.size >= this.config.TOKEN_CACHE_SIZE) {
        // Drop the oldest entry (Map keeps insertion order).
        const first = this.cache.keys().next();
        if (!first.done) this.cache.delete(first.value);
      }
      this.cache.set(cacheKey(token), { token, verified });
    }
    return verified;
  }

  /**
   * A token for any of these audiences (introspection answers for every registered API), never cached:
   * the cache is what Warden's own routes trust, and they accept their own audience only.
   */
  async verifyForAudiences(token: string, audiences: string[], maxLifetimeSeconds: number): Promise<AccessClaims> {
    const payload = await verifyJwt(token, {
      issuer: this.config.issuer,
      audience: audiences,
      algorithms: [this.keys.algorithm],
      nowSeconds: Math.floor(this.clock.now() / 1000),
      resolveKey: (kid, alg) => this.keys.verificationKey(kid, alg),
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ['jti', 'client_id'],
      maxLifetimeSeconds,
    });
    if (typeof payload.jti !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number' || typeof payload.client_id !== 'string') {
      throw new TokenError('ERR_JWT_CLAIM_VALIDATION_FAILED', 'token lacks required claims');
    }
    return { ...payload, scope: typeof payload.scope === 'string' ? payload.scope : '' } as AccessClaims;
  }

  /** Forget cached verifications (after a key is retired). */
  clearCache() {
    this.cache.clear();
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    readonly accessTokens: AccessTokens;
  }
}
