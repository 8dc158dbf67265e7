import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { subjectOf } from '../oauth/claims.js';
import { queryRows } from '../../kernel/storage/database.js';
import { backchannelLogouts } from './tables.js';
import { signJwt } from '../tokens/jwt.js';
import { findUserById } from '../users/repository.js';
import type { Warden } from '../../kernel/warden.js';

/** OIDC Back-Channel Logout 1.0 §2.4: the event that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** §2.4: "a short time"; the receiver also rejects a token whose jti it has seen. */
const LOGOUT_TOKEN_TTL_SECONDS = 120;

/**
 * How often each instance looks for due deliveries (its job's interval): the end of a session is one, and
 * the receiver should hear of it within about this long.
 */
export const BACKCHANNEL_POLL_MS = 1000;

export interface BackchannelOptions {
  /** Attempts per delivery, the first included; then it is given up (audited). */
  attempts?: number;
  /** Delay before the first retry; doubles each time (10 s, 20 s, … ~21 min for the 8th). */
  retryDelayMs?: number;
  /** How long one POST may take (§2.8: the RP answers at once; it must not hold a worker). */
  timeoutMs?: number;
  /** How long a claimed row is this instance's before another may take it (a crash mid-delivery). */
  leaseMs?: number;
  batch?: number;
}

export interface BackchannelLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Claimed {
  id: string;
  sid: string;
  user_id: string;
  client_id: string;
  attempts: number;
}

/** What one pass did. */
export interface BackchannelPass {
  delivered: number;
  retried: number;
  abandoned: number;
  dropped: number;
}

/**
 * Delivers the back-channel logout outbox (`backchannel_logouts`, filled by the statement that ends a
 * session: src/features/sessions/repository.ts). Every instance runs one, as the job
 * `backchannel-logouts.deliver` every BACKCHANNEL_POLL_MS (src/features/oauth/plugin.ts); a row is claimed by one atomic UPDATE
 * (FOR UPDATE SKIP LOCKED: two instances never take the same row) with a lease, so a crash mid-delivery
 * leaves it to be taken again once the lease lapses, and a restart finds what was due in the database.
 * Each outcome — delivered, failed (retried with exponential backoff), given up — is audited.
 *
 * Where it posts is what an admin registered for the client (http or https only, checked at
 * registration), read at delivery time: a client deleted or unregistered since gets nothing. Redirects
 * are not followed, so a receiver cannot bounce the POST elsewhere.
 */
export class BackchannelLogout {
  private running: Promise<BackchannelPass> | undefined;
  readonly attempts: number;
  readonly retryDelayMs: number;
  readonly timeoutMs: number;
  readonly leaseMs: number;
  readonly batch: number;

  constructor(
    private readonly w: Warden,
    private readonly log: BackchannelLog,
    opts: BackchannelOptions = {},
  ) {
    this.attempts = opts.attempts ?? 8;
    this.retryDelayMs = opts.retryDelayMs ?? 10_000;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.leaseMs = opts.leaseMs ?? Math.max(60_000, this.timeoutMs * 4);
    this.batch = opts.batch ?? 20;
  }

  /**
   * One pass: claim what is due and deliver it, batch after batch until none is left or `signal` aborts
   * (the deliveries under way finish and their rows are updated first). A pass already running is joined.
   */
  runOnce(signal?: AbortSignal): Promise<BackchannelPass> {
    this.running ??= this.pass(signal).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(signal: AbortSignal | undefined): Promise<BackchannelPass> {
    const done: BackchannelPass = { delivered: 0, retried: 0, abandoned: 0, dropped: 0 };
    while (!signal?.aborted) {
      const rows = await this.claim();
      if (!rows.length) break;
      for (const outcome of await Promise.all(rows.map((r) => this.deliver(r)))) done[outcome]++;
      if (rows.length < this.batch) break;
    }
    return done;
  }

  private async claim(): Promise<Claimed[]> {
    const now = this.w.clock.now();
    const at = sql`${new Date(now).toISOString()}::timestamptz`;
    const until = sql`${new Date(now + this.leaseMs).toISOString()}::timestamptz`;
    return queryRows<Claimed>(
      this.w.db,
      sql`update backchannel_logouts set claimed_until = ${until}, attempts = attempts + 1
        where id in (
          select id from backchannel_logouts
          where next_attempt_at <= ${at} and (claimed_until is null or claimed_until <= ${at})
          order by next_attempt_at limit ${this.batch}
          for update skip locked
        )
        returning id::text, sid::text, user_id::text, client_id, attempts`,
    );
  }

  private async deliver(row: Claimed): Promise<keyof BackchannelPass> {
    const w = this.w;
    const details = { client_id: row.client_id, sid: row.sid, attempt: Number(row.attempts) };
    const client = await w.clients.find(row.client_id);
    if (!client?.backchannelLogoutUri) {
      await this.finish(row, { type: 'backchannel_logout.dropped', subjectId: row.user_id, details: { ...details, reason: 'client_unregistered' } });
      return 'dropped';
    }
    let failure: string | undefined;
    try {
      const token = await this.logoutToken(row);
      const res = await fetch(client.backchannelLogoutUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: token }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel().catch(() => {});
      // §2.8: 200 on success (some frameworks answer 204); anything else, a redirect included, failed.
      if (res.status < 200 || res.status > 299) failure = `HTTP ${res.status}`;
    } catch (e) {
      failure = e instanceof Error ? (e.name === 'TimeoutError' ? 'timeout' : e.message) : 'error';
    }
    if (failure === undefined) {
      await this.finish(row, { type: 'backchannel_logout.delivered', subjectId: row.user_id, details });
      return 'delivered';
    }
    const attempt = Number(row.attempts);
    if (attempt >= this.attempts) {
      this.log.warn({ ...details, error: failure }, 'back-channel logout given up after retries');
      await this.finish(row, { type: 'backchannel_logout.abandoned', subjectId: row.user_id, flagged: true, details: { ...details, error: failure } });
      return 'abandoned';
    }
    const delay = this.retryDelayMs * 2 ** (attempt - 1);
    this.log.info({ ...details, error: failure, retry_in_ms: delay }, 'back-channel logout failed; will retry');
    const next = new Date(w.clock.now() + delay);
    await w.db.transaction(async (tx) => {
      await tx
        .update(backchannelLogouts)
        .set({ nextAttemptAt: next, claimedUntil: null, lastError: failure.slice(0, 200) })
        .where(eq(backchannelLogouts.id, row.id));
      await w.audit.record(tx, { type: 'backchannel_logout.failed', subjectId: row.user_id, details: { ...details, error: failure, retry_at: next.toISOString() } });
    });
    return 'retried';
  }

  /** The row leaves the outbox with its audit event, in one transaction. */
  private async finish(row: Claimed, event: { type: string; subjectId: string; flagged?: boolean; details: Record<string, unknown> }) {
    await this.w.db.transaction(async (tx) => {
      await tx.delete(backchannelLogouts).where(eq(backchannelLogouts.id, row.id));
      await this.w.audit.record(tx, event);
    });
  }

  /**
   * §2.4: signed with the key id_tokens are signed with (the RP verifies it from the JWKS), `typ:
   * logout+jwt` (§2.4, so it can never pass for an id_token), `iss`, `aud`, `iat`, `exp`, `jti`,
   * `events`, `sid` and `sub`; never `nonce` (§2.4: its absence is part of what sets it apart).
   */
  private async logoutToken(row: Claimed): Promise<string> {
    const w = this.w;
    const user = await findUserById(w.db, row.user_id);
    return signJwt({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sid: row.sid }, w.keys.idTokenKey(), {
      issuer: w.config.issuer,
      audience: row.client_id,
      // A user deleted since: the session alone names what ended (§2.4 needs sub or sid).
      subject: user ? subjectOf(user, w.config.JWT_SUBJECT) : undefined,
      expiresInSeconds: LOGOUT_TOKEN_TTL_SECONDS,
      nowSeconds: Math.floor(w.clock.now() / 1000),
      jti: randomUUID(),
      typ: 'logout+jwt',
    });
  }
}
