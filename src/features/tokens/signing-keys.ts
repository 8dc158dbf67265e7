import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Clock } from '../../kernel/clock.js';
import type { Config } from '../../kernel/config/load.js';
import type { Database, Db } from '../../kernel/storage/database.js';
import { Keyring, sealedAt } from '../../kernel/storage/encryption.js';
import { signingKeys } from './tables.js';
import type { StateStore } from '../../kernel/storage/state/store.js';
import {
  generateSigningKey,
  importKeyPair,
  importPublicKey,
  secretKeyMaterial,
  type AsymmetricAlg,
  type JWK,
  type KeyMaterial,
  type SigningAlg,
} from './jwt.js';

/** The settings the signing keys read (the keyring's, when none is given, included). */
export type SigningKeySettings = Pick<Config, 'JWT_ALGORITHM' | 'KEY_ROTATION_DAYS' | 'SECRET_KEY' | 'accessTokenTtlSeconds' | 'encryptionKeys' | 'NODE_ENV'>;

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  state: 'active' | 'retiring' | 'retired';
  created_at: string;
  retiring_at: string | null;
  retired_at: string | null;
}

/** Unknown kids reload the keys at most this often. */
const RELOAD_INTERVAL_MS = 1000;
/** verifyJwt's clockTolerance: a verifier accepts a token this long after its exp. */
const CLOCK_TOLERANCE_MS = 5000;
/** State-store channel (Redis) and PostgreSQL NOTIFY channel announcing a rotation or retirement. */
const CHANNEL = 'signing-keys';
const PG_CHANNEL = 'warden_signing_keys';

export interface SigningKeysOptions {
  /** Seals private keys at rest; by default the one ENCRYPTION_KEY / SECRET_KEY give. */
  keyring?: Keyring;
  /** Announces rotations to every instance (Redis pub/sub); a memory store reaches this process only. */
  state?: StateStore;
  /** On PostgreSQL without Redis, LISTEN/NOTIFY announces rotations instead. */
  database?: Database;
}

/**
 * Signing keys kept in the database, the private part sealed with the encryption keyring. One
 * `active` key signs; `retiring` keys only verify (their private part is erased when they stop
 * signing) and stay in the JWKS until every token they signed has expired, then become `retired`.
 *
 * A rotation anywhere (an instance, the CLI, the key timer) is announced — Redis pub/sub when the state
 * store is Redis, else PostgreSQL NOTIFY — and every instance reloads at once: it signs with the new
 * key and publishes it. An instance that was still signing with the old key pushes that key's
 * `retire_after` out by its own longest token lifetime, so whoever retires it later (with whatever
 * settings) never drops a key before the tokens it signed have expired.
 *
 * With HS256, access tokens are signed with SECRET_KEY; id_tokens still get an asymmetric key from
 * here (ES256), published in the JWKS, because a relying party must never hold the secret that signs
 * access tokens (OIDC Core §10.1: client secrets are stored hashed, so they cannot sign either).
 */
export class SigningKeys {
  private byKid = new Map<string, KeyMaterial>();
  private published: JWK[] = [];
  private activeKey: KeyMaterial | undefined;
  private lastReload = 0;
  private pendingReload: Promise<void> | undefined;
  private readonly hs: KeyMaterial | undefined;
  private readonly keyring: Keyring;
  private readonly instance = randomUUID();
  private stopListening: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Db,
    private readonly config: SigningKeySettings,
    private readonly clock: Clock,
    private readonly opts: SigningKeysOptions = {},
  ) {
    this.hs = config.JWT_ALGORITHM === 'HS256' ? secretKeyMaterial(config.SECRET_KEY!) : undefined;
    this.keyring = opts.keyring ?? Keyring.fromConfig(config);
  }

  /** What access tokens are signed with. */
  get algorithm(): SigningAlg {
    return this.config.JWT_ALGORITHM;
  }

  /** What id_tokens (and, unless HS256, access tokens) are signed with: the keys in the database. */
  get idTokenAlgorithm(): AsymmetricAlg {
    return this.config.JWT_ALGORITHM === 'HS256' ? 'ES256' : this.config.JWT_ALGORITHM;
  }

  /** Longest lifetime of anything this instance signs, plus the verifiers' clock tolerance. */
  private get maxTokenLifetimeMs() {
    return Math.max(this.config.accessTokenTtlSeconds, 600) * 1000 + CLOCK_TOLERANCE_MS;
  }

  /**
   * Load keys; create the first one on a fresh database; retire keys whose tokens have all expired.
   * A scheduled rotation that fell due while Warden was stopped is not made here (every instance and every
   * CLI command would make its own, unaudited): the signing-keys.maintain job makes it, audited, on one instance.
   */
  async init(): Promise<void> {
    await this.retireExpired();
    await this.reload();
    if (!this.activeKey) await this.rotate();
  }

  /** Hear other instances' rotations and retirements (the server does; a one-shot command need not). */
  async listen(): Promise<void> {
    const { state, database } = this.opts;
    const heard = (message: string) => {
      if (message.split(' ')[0] !== this.instance) void this.reload().catch(() => {});
    };
    state?.subscribe(CHANNEL, heard);
    state?.onReconnect?.(() => void this.reload().catch(() => {}));
    if (state?.kind !== 'redis' && database?.listen) {
      this.stopListening = await database.listen(PG_CHANNEL, heard, () => void this.reload().catch(() => {}));
    }
  }

  async close(): Promise<void> {
    await this.stopListening?.();
  }

  /** Tell every instance the keys changed, after the change is committed. */
  private async announce(what: string) {
    const message = `${this.instance} ${what}`;
    const { state, database } = this.opts;
    await state?.publish(CHANNEL, message).catch(() => {});
    if (state?.kind !== 'redis' && database?.kind === 'postgres') await this.db.execute(sql`select pg_notify(${PG_CHANNEL}, ${message})`);
  }

  async reload(): Promise<void> {
    this.lastReload = this.clock.now();
    const rows = await this.db.select().from(signingKeys).where(inArray(signingKeys.state, ['active', 'retiring']));
    const byKid = new Map<string, KeyMaterial>();
    const published: JWK[] = [];
    let active: KeyMaterial | undefined;
    let activeCreated = 0;
    for (const row of rows) {
      const signs = row.state === 'active' && row.alg === this.idTokenAlgorithm && row.createdAt.getTime() >= activeCreated;
      const privateJwk = signs ? this.privateJwkOf(row) : undefined;
      const material = privateJwk
        ? await importKeyPair(row.kid, row.alg as AsymmetricAlg, row.publicJwk as JWK, privateJwk)
        : await importPublicKey(row.kid, row.alg as AsymmetricAlg, row.publicJwk as JWK);
      byKid.set(row.kid, material);
      published.push(row.publicJwk as JWK);
      if (signs && privateJwk) {
        active = material;
        activeCreated = row.createdAt.getTime();
      }
    }
    const previous = this.activeKey?.kid;
    this.byKid = byKid;
    this.published = published;
    this.activeKey = active;
    if (previous && previous !== active?.kid) await this.stoppedSigningWith(previous);
  }

  private privateJwkOf(row: typeof signingKeys.$inferSelect): JWK | undefined {
    if (row.privateKey) return JSON.parse(this.keyring.open(row.privateKey, sealedAt.signingKey(row.kid))) as JWK;
    return (row.privateJwk as JWK | null) ?? undefined;
  }

  /**
   * This instance signed with `kid` until now: the key must verify until those tokens expire, by this
   * instance's lifetime (the instance that rotated may run with shorter ones, or the CLI's settings).
   */
  private async stoppedSigningWith(kid: string) {
    const until = new Date(this.clock.now() + this.maxTokenLifetimeMs);
    await this.db
      .update(signingKeys)
      .set({ retireAfter: sql`greatest(${signingKeys.retireAfter}, ${until.toISOString()}::timestamptz)` })
      .where(and(eq(signingKeys.kid, kid), eq(signingKeys.state, 'retiring')));
  }

  /** The key new access tokens are signed with. */
  signingKey(): KeyMaterial {
    return this.hs ?? this.idTokenKey();
  }

  /** The key new id_tokens are signed with: always asymmetric, published in the JWKS. */
  idTokenKey(): KeyMaterial {
    if (!this.activeKey) throw new Error('no active signing key (init() not called)');
    return this.activeKey;
  }

  /**
   * A key to verify a token with. An unknown kid means another instance may have rotated: the keys are
   * reloaded, at most once a second (a forged kid must not become a query per request). A token that
   * arrives within a second of the last reload waits for the next one instead of being refused: a key
   * rotated on another instance just after this one's reload is otherwise unknown here for that second.
   * Every caller waiting meanwhile shares that one reload. Callers pin the algorithms they accept.
   */
  async verificationKey(kid: string | undefined, alg: string): Promise<KeyMaterial | undefined> {
    if (alg === 'HS256') return this.hs;
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

  /**
   * Make a new active key. The previous one stops signing (its private part is erased) and verifies
   * until its tokens expire. Prefer rotateSigningKey (src/features/oauth/keys-routes.ts), which audits.
   */
  async rotate(actor?: { onRotated?: (kid: string, previous: string[]) => Promise<void> }): Promise<string> {
    const key = await generateSigningKey(this.idTokenAlgorithm);
    const now = new Date(this.clock.now());
    const previous = await this.db.transaction(async (tx) => {
      const old = await tx
        .update(signingKeys)
        .set({ state: 'retiring', retiringAt: now, retireAfter: new Date(now.getTime() + this.maxTokenLifetimeMs), privateKey: null, privateJwk: null })
        .where(eq(signingKeys.state, 'active'))
        .returning({ kid: signingKeys.kid });
      await tx.insert(signingKeys).values({
        kid: key.kid,
        alg: key.alg,
        publicJwk: key.publicJwk as Record<string, unknown>,
        privateKey: this.keyring.seal(JSON.stringify(key.privateJwk), sealedAt.signingKey(key.kid)),
        state: 'active',
        createdAt: now,
      });
      return old.map((o) => o.kid);
    });
    await actor?.onRotated?.(key.kid, previous);
    await this.reload();
    await this.announce('rotated');
    return key.kid;
  }

  /** Retiring keys whose every token has expired leave the JWKS. */
  async retireExpired(): Promise<number> {
    const now = new Date(this.clock.now());
    // Rows from before retire_after existed: by this instance's lifetime.
    const legacyCutoff = new Date(this.clock.now() - this.maxTokenLifetimeMs);
    const rows = await this.db
      .update(signingKeys)
      .set({ state: 'retired', retiredAt: now, privateKey: null, privateJwk: null })
      .where(
        and(
          eq(signingKeys.state, 'retiring'),
          or(lt(signingKeys.retireAfter, now), and(isNull(signingKeys.retireAfter), lt(signingKeys.retiringAt, legacyCutoff))),
        ),
      )
      .returning({ kid: signingKeys.kid });
    if (rows.length) {
      await this.reload();
      await this.announce('retired');
    }
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

declare module '../../kernel/warden.js' {
  interface Warden {
    readonly keys: SigningKeys;
  }
}
