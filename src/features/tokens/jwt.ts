/**
 * The only module that imports jose. Everything about JWS signing and verification lives here:
 * algorithms are pinned, iss/aud/exp/nbf are checked, `alg: none` and key confusion are refused.
 */
import {
  SignJWT,
  jwtVerify,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  calculateJwkThumbprint,
  errors as joseErrors,
  type JWK,
  type JWTPayload,
  type CryptoKey,
} from 'jose';

export type AsymmetricAlg = 'EdDSA' | 'ES256';
export type SigningAlg = AsymmetricAlg | 'HS256';

export interface KeyMaterial {
  kid: string | undefined;
  alg: SigningAlg;
  /** Private key (asymmetric) or secret (HS256); absent for a key that only verifies. */
  signKey?: CryptoKey | Uint8Array;
  /** Public key (asymmetric) or secret (HS256). */
  verifyKey: CryptoKey | Uint8Array;
}

export interface GeneratedKey {
  kid: string;
  alg: AsymmetricAlg;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** A JWT could not be accepted. `code` is jose's stable code or one of ours. */
export class TokenError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export async function generateSigningKey(alg: AsymmetricAlg): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, alg, publicJwk: { ...publicJwk, kid, alg, use: 'sig' }, privateJwk: { ...privateJwk, kid, alg } };
}

export async function importKeyPair(kid: string, alg: AsymmetricAlg, publicJwk: JWK, privateJwk: JWK): Promise<KeyMaterial> {
  const signKey = (await importJWK(privateJwk, alg)) as CryptoKey;
  return { kid, alg, signKey, verifyKey: (await importJWK(publicJwk, alg)) as CryptoKey };
}

/** A key that only verifies (a retiring key, whose private part is erased): signing with it throws. */
export async function importPublicKey(kid: string, alg: AsymmetricAlg, publicJwk: JWK): Promise<KeyMaterial> {
  return { kid, alg, verifyKey: (await importJWK(publicJwk, alg)) as CryptoKey };
}

export function secretKeyMaterial(secret: string): KeyMaterial {
  const bytes = new TextEncoder().encode(secret);
  return { kid: undefined, alg: 'HS256', signKey: bytes, verifyKey: bytes };
}

export interface SignOptions {
  issuer: string;
  audience?: string | string[] | undefined;
  /** Absent only where the token's type allows it (a logout_token may name the session alone). */
  subject: string | undefined;
  expiresInSeconds: number;
  nowSeconds: number;
  jti?: string;
  typ?: string;
}

/** A compact JWS (RFC 7519 §7.1): the registered claims are set last, so `claims` cannot override them. */
export async function signJwt(claims: JWTPayload, key: KeyMaterial, opts: SignOptions): Promise<string> {
  // A retiring key's private part is erased: it verifies what it signed, and signs nothing more.
  if (!key.signKey) throw new Error(`signing key ${key.kid} only verifies`);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, ...(key.kid ? { kid: key.kid } : {}), ...(opts.typ ? { typ: opts.typ } : {}) })
    .setIssuer(opts.issuer)
    .setIssuedAt(opts.nowSeconds)
    .setExpirationTime(opts.nowSeconds + opts.expiresInSeconds);
  if (opts.subject !== undefined) jwt.setSubject(opts.subject);
  if (opts.audience !== undefined) jwt.setAudience(opts.audience);
  if (opts.jti) jwt.setJti(opts.jti);
  return jwt.sign(key.signKey);
}

export interface VerifyOptions {
  issuer: string;
  /** One of these (introspection accepts every registered API's). */
  audience?: string | string[] | undefined;
  algorithms: SigningAlg[];
  nowSeconds: number;
  /** Finds the verification key for a header's kid (undefined kid for HS256). */
  resolveKey: (kid: string | undefined, alg: string) => Promise<KeyMaterial | undefined>;
  /** The header `typ` to require (jose compares it without an `application/` prefix). */
  typ?: string;
  requiredClaims?: string[];
  /** Refuse a token whose `exp - iat` is longer than this: no token outlives what the issuer hands out. */
  maxLifetimeSeconds?: number;
  /**
   * Accept a token past its `exp` (everything else still checked): OIDC RP-Initiated Logout §2 lets an
   * expired id_token serve as `id_token_hint`. The claims are then checked as of the token's own `iat`.
   */
  allowExpired?: boolean;
}

/** Clock skew allowed on `exp` and `nbf` (jose's clockTolerance). */
const EXP_TOLERANCE_SECONDS = 5;
/**
 * How far in the future `iat` may be (RFC 7519 §4.1.6): another instance's clock may run a little ahead,
 * but a token from further ahead was minted with a wrong clock or to outlive its `exp` check.
 */
export const IAT_FUTURE_TOLERANCE_SECONDS = 60;

/**
 * Verify signature and registered claims. The algorithm list is pinned by configuration, never taken
 * from the token: `alg: none` and an HS256 token "signed" with a public key (key confusion) both fail.
 */
export async function verifyJwt(token: string, opts: VerifyOptions): Promise<JWTPayload> {
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenError('ERR_JWS_INVALID', 'malformed token');
  }
  if (typeof header.alg !== 'string' || !(opts.algorithms as string[]).includes(header.alg)) {
    throw new TokenError('ERR_JOSE_ALG_NOT_ALLOWED', 'token algorithm not allowed');
  }
  const key = await opts.resolveKey(typeof header.kid === 'string' ? header.kid : undefined, header.alg);
  if (!key || key.alg !== header.alg) throw new TokenError('ERR_JWKS_NO_MATCHING_KEY', 'unknown signing key');
  if (opts.allowExpired) {
    // Still signed by our key: an `iat` taken from the unverified payload only chooses the instant the claims are judged at.
    const iat = peekJwtPayload(token)?.iat;
    if (typeof iat === 'number' && Number.isFinite(iat) && iat < opts.nowSeconds) opts = { ...opts, nowSeconds: Math.floor(iat) };
  }
  try {
    const { payload } = await jwtVerify(token, key.verifyKey, {
      algorithms: [key.alg],
      issuer: opts.issuer,
      ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
      currentDate: new Date(opts.nowSeconds * 1000),
      clockTolerance: EXP_TOLERANCE_SECONDS,
      ...(opts.typ ? { typ: opts.typ } : {}),
      requiredClaims: ['exp', 'iat', 'sub', ...(opts.requiredClaims ?? [])],
    });
    checkIssuedAt(payload, opts);
    return payload;
  } catch (e) {
    if (e instanceof TokenError) throw e;
    if (e instanceof joseErrors.JOSEError) throw new TokenError(e.code, e.message);
    throw new TokenError('ERR_JWT_INVALID', 'invalid token');
  }
}

/** `iat` not in the future (beyond the tolerance), and a lifetime no longer than the issuer's. */
function checkIssuedAt(payload: JWTPayload, opts: VerifyOptions) {
  const iat = payload.iat!;
  if (iat > opts.nowSeconds + IAT_FUTURE_TOLERANCE_SECONDS) throw new TokenError('ERR_JWT_CLAIM_VALIDATION_FAILED', '"iat" claim is in the future');
  if (opts.maxLifetimeSeconds !== undefined && payload.exp! - iat > opts.maxLifetimeSeconds) {
    throw new TokenError('ERR_JWT_CLAIM_VALIDATION_FAILED', 'token lifetime ("exp" - "iat") is longer than the issuer allows');
  }
}

/** Unverified look at the payload: only for choosing what to do with a token already rejected or for hints. */
export function peekJwtPayload(token: string): JWTPayload | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as JWTPayload;
  } catch {
    return undefined;
  }
}

export type { JWK, JWTPayload };
