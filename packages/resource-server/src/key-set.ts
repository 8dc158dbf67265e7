import { createLocalJWKSet, type JSONWebKeySet, type JWTHeaderParameters, type FlattenedJWSInput, type CryptoKey } from 'jose';

export interface KeySetOptions {
  /** Where the keys are; resolved on the first use (discovery). */
  jwksUri: () => Promise<string>;
  /** At most one refetch for an unknown `kid` per this many milliseconds. */
  cooldownMs: number;
  /** Keys older than this are fetched again on the next use (a retired key stops verifying). */
  maxAgeMs: number;
  fetch: typeof fetch;
  now: () => number;
}

type GetKey = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey> | CryptoKey;

/**
 * Warden's JWKS, fetched on first use and kept. A token signed by a key not yet seen (Warden rotated)
 * makes it fetch again, but at most once per cooldown: the `kid` header is attacker-chosen, so without
 * the cooldown every forged token would cost Warden a JWKS request. A failed fetch waits a cooldown too.
 */
export class RemoteKeySet {
  private select: ReturnType<typeof createLocalJWKSet> | undefined;
  private kids = new Set<string>();
  private imported = new Map<string, { alg: string; key: CryptoKey }>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private failedAt = Number.NEGATIVE_INFINITY;
  private lastUnknownKid = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;
  /** How many times the JWKS was requested (for tests and metrics). */
  fetches = 0;

  constructor(private readonly opts: KeySetOptions) {}

  /** Synchronous for a key already imported (the common case): jose awaits the answer either way. */
  readonly getKey: GetKey = (header, token) => {
    const known = header.kid !== undefined ? this.imported.get(header.kid) : undefined;
    if (known && known.alg === header.alg && this.opts.now() - this.fetchedAt < this.opts.maxAgeMs) return known.key;
    return this.lookUp(header, token);
  };

  private async lookUp(header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    const now = this.opts.now();
    if (!this.select || now - this.fetchedAt >= this.opts.maxAgeMs) {
      await this.refresh(now);
    } else if (header.kid !== undefined && !this.kids.has(header.kid) && now - this.lastUnknownKid >= this.opts.cooldownMs) {
      this.lastUnknownKid = now;
      await this.refresh(now);
    }
    if (!this.select) throw new Error('the JWKS is not available');
    // jose picks the key (kid, alg, kty, use) and imports it; remembered per kid and algorithm.
    const key = await this.select(header, token);
    if (header.kid !== undefined) this.imported.set(header.kid, { alg: header.alg, key });
    return key;
  }

  private async refresh(now: number): Promise<void> {
    if (!this.pending) {
      if (now - this.failedAt < this.opts.cooldownMs) {
        if (this.select) return;
        throw new Error('the JWKS could not be fetched; waiting before trying again');
      }
      this.pending = this.load(now)
        .catch((e: unknown) => {
          this.failedAt = now;
          throw e;
        })
        .finally(() => (this.pending = undefined));
    }
    try {
      await this.pending;
    } catch (e) {
      // Stale keys still verify while Warden is unreachable; without any, the caller must fail.
      if (!this.select) throw e;
    }
  }

  private async load(now: number): Promise<void> {
    this.fetches++;
    const res = await this.opts.fetch(await this.opts.jwksUri(), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`the JWKS answered HTTP ${res.status}`);
    const jwks = (await res.json()) as JSONWebKeySet;
    if (!jwks || !Array.isArray(jwks.keys)) throw new Error('the JWKS is not a JSON Web Key Set');
    this.select = createLocalJWKSet(jwks);
    this.imported.clear();
    this.kids = new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
    this.fetchedAt = now;
  }
}
