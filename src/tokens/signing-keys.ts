import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, inArray, lt } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Db } from '../storage/database.js';
import { signingKeys } from '../storage/schema.js';
import {
  generateSigningKey,
  importKeyPair,
  secretKeyMaterial,
  type AsymmetricAlg,
  type JWK,
  type KeyMaterial,
  type SigningAlg,
} from './jwt.js';

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  state: 'active' | 'retiring' | 'retired';
  created_at: string;
  retiring_at: string | null;
  retired_at: string | null;
}

/**
 * Signing keys kept in the database. One `active` key signs; `retiring` keys still verify and stay in
 * the JWKS until every token they signed has expired, then become `retired`. Another instance's
 * rotation is picked up when a token arrives with an unknown kid (and on a timer).
 * With HS256 there is one shared secret and no JWKS.
 */
/** Unknown kids reload the keys at most this often. */
const RELOAD_INTERVAL_MS = 1000;

export class SigningKeys {
  private byKid = new Map<string, KeyMaterial>();
  private published: JWK[] = [];
  private activeKey: KeyMaterial | undefined;
  private lastReload = 0;
  private pendingReload: Promise<void> | undefined;
  private readonly hs: KeyMaterial | undefined;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly clock: Clock,
  ) {
    this.hs = config.JWT_ALGORITHM === 'HS256' ? secretKeyMaterial(config.SECRET_KEY!) : undefined;
  }

  get algorithm(): SigningAlg {
    return this.config.JWT_ALGORITHM;
  }

  /** Longest lifetime of anything signed: a retiring key must outlive it. */
  private get maxTokenLifetimeMs() {
    return Math.max(this.config.accessTokenTtlSeconds, 600) * 1000;
  }

  /** Load keys; create the first one on a fresh database; retire keys whose tokens have all expired. */
  async init(): Promise<void> {
    if (this.hs) return;
    await this.retireExpired();
    await this.reload();
    if (!this.activeKey) {
      await this.rotate();
    } else if (this.config.KEY_ROTATION_DAYS > 0) {
      await this.rotateIfDue();
    }
  }

  async reload(): Promise<void> {
    if (this.hs) return;
    this.lastReload = this.clock.now();
    const rows = await this.db.select().from(signingKeys).where(inArray(signingKeys.state, ['active', 'retiring']));
    const byKid = new Map<string, KeyMaterial>();
    const published: JWK[] = [];
    let active: KeyMaterial | undefined;
    let activeCreated = 0;
    for (const row of rows) {
      const material = await importKeyPair(row.kid, row.alg as AsymmetricAlg, row.publicJwk as JWK, row.privateJwk as JWK);
      byKid.set(row.kid, material);
      published.push(row.publicJwk as JWK);
      if (row.state === 'active' && row.alg === this.config.JWT_ALGORITHM && row.createdAt.getTime() >= activeCreated) {
        active = material;
        activeCreated = row.createdAt.getTime();
      }
    }
    this.byKid = byKid;
    this.published = published;
    this.activeKey = active;
  }

  /** The key new tokens are signed with. */
  signingKey(): KeyMaterial {
    if (this.hs) return this.hs;
    if (!this.activeKey) throw new Error('no active signing key (init() not called)');
    return this.activeKey;
  }

  /**
   * A key to verify a token with. An unknown kid means another instance may have rotated: the keys are
   * reloaded, at most once a second (a forged kid must not become a query per request). A token that
   * arrives within a second of the last reload waits for the next one instead of being refused: a key
   * rotated on another instance just after this one's reload is otherwise unknown here for that second.
   * Every caller waiting meanwhile shares that one reload.
   */
  async verificationKey(kid: string | undefined, alg: string): Promise<KeyMaterial | undefined> {
    if (this.hs) return alg === 'HS256' ? this.hs : undefined;
    if (!kid) return undefined;
    const known = this.byKid.get(kid);
    if (known) return known;
    await (this.pendingReload ??= this.reloadWhenAllowed().finally(() => (this.pendingReload = undefined)));
    return this.byKid.get(kid);
  }

  private async reloadWhenAllowed() {
    const wait = this.lastReload + RELOAD_INTERVAL_MS - this.clock.now();
    if (wait > 0) await sleep(Math.min(wait, RELOAD_INTERVAL_MS));
    await this.reload();
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.published };
  }

  /** Make a new active key; the previous one verifies until its tokens expire. */
  async rotate(actor?: { onRotated?: (kid: string, previous: string[]) => Promise<void> }): Promise<string> {
    if (this.hs) throw new Error('JWT_ALGORITHM=HS256 uses SECRET_KEY; there is no key to rotate (change SECRET_KEY instead)');
    const key = await generateSigningKey(this.config.JWT_ALGORITHM as AsymmetricAlg);
    const now = new Date(this.clock.now());
    const previous = await this.db.transaction(async (tx) => {
      const old = await tx
        .update(signingKeys)
        .set({ state: 'retiring', retiringAt: now })
        .where(eq(signingKeys.state, 'active'))
        .returning({ kid: signingKeys.kid });
      await tx.insert(signingKeys).values({
        kid: key.kid,
        alg: key.alg,
        publicJwk: key.publicJwk as Record<string, unknown>,
        privateJwk: key.privateJwk as Record<string, unknown>,
        state: 'active',
        createdAt: now,
      });
      return old.map((o) => o.kid);
    });
    await actor?.onRotated?.(key.kid, previous);
    await this.reload();
    return key.kid;
  }

  async rotateIfDue(): Promise<string | undefined> {
    if (this.hs || this.config.KEY_ROTATION_DAYS <= 0) return undefined;
    const rows = await this.db.select().from(signingKeys).where(eq(signingKeys.state, 'active'));
    const newest = Math.max(0, ...rows.map((r) => r.createdAt.getTime()));
    if (this.clock.now() - newest >= this.config.KEY_ROTATION_DAYS * 86400_000) return this.rotate();
    return undefined;
  }

  /** Retiring keys whose every token has expired leave the JWKS. */
  async retireExpired(): Promise<number> {
    if (this.hs) return 0;
    const cutoff = new Date(this.clock.now() - this.maxTokenLifetimeMs);
    const rows = await this.db
      .update(signingKeys)
      .set({ state: 'retired', retiredAt: new Date(this.clock.now()) })
      .where(and(eq(signingKeys.state, 'retiring'), lt(signingKeys.retiringAt, cutoff)))
      .returning({ kid: signingKeys.kid });
    if (rows.length) await this.reload();
    return rows.length;
  }

  async list(): Promise<SigningKeyInfo[]> {
    const rows = await this.db.select().from(signingKeys).orderBy(signingKeys.createdAt);
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      state: r.state,
      created_at: r.createdAt.toISOString(),
      retiring_at: r.retiringAt?.toISOString() ?? null,
      retired_at: r.retiredAt?.toISOString() ?? null,
    }));
  }
}
