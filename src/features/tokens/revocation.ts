import { and, gt, isNotNull, lt } from 'drizzle-orm';
import type { Clock } from '../../kernel/clock.js';
import type { Db } from '../../kernel/storage/database.js';
import { sessions } from '../sessions/tables.js';
import { revokedTokens } from './tables.js';
import type { StateStore } from '../../kernel/storage/state/store.js';

const CHANNEL = 'warden:revoked-jti';
/** Channel messages naming an ended session rather than a token: `sid:<sid> <until ms>`. */
const SID = 'sid:';

/**
 * Access tokens that must fail before their expiry: single tokens by `jti` (RFC 7009, code reuse) and
 * every token of an ended session by `sid` (a refresh token revoked, refresh-token reuse). Kept in the
 * database so a restart forgets nothing (revoked_tokens; sessions.ended_at), mirrored in memory so the
 * per-request check costs a map lookup, and announced through the state store so every instance learns
 * of it at once. A session's entry lasts as long as an access token issued just before its end.
 */
export class RevocationList {
  private readonly revoked = new Map<string, number>();
  private readonly endedSessions = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly state: StateStore,
    private readonly clock: Clock,
    private readonly accessTokenTtlSeconds = 3600,
  ) {}

  async init() {
    await this.load();
    // Revocations announced while this instance was cut off from the state store are in the database.
    this.state.onReconnect?.(() => void this.load().catch(() => {}));
    this.state.subscribe(CHANNEL, (message) => {
      const [key, exp] = message.split(' ');
      if (!key || !exp) return;
      if (key.startsWith(SID)) this.endedSessions.set(key.slice(SID.length), Number(exp));
      else this.revoked.set(key, Number(exp));
    });
  }

  private async load() {
    const now = this.clock.now();
    const rows = await this.db.select().from(revokedTokens).where(gt(revokedTokens.expiresAt, new Date(now)));
    for (const r of rows) this.revoked.set(r.jti, r.expiresAt.getTime());
    const ended = await this.db
      .select({ sid: sessions.sid, endedAt: sessions.endedAt })
      .from(sessions)
      .where(and(isNotNull(sessions.endedAt), gt(sessions.endedAt, new Date(now - this.accessTokenTtlSeconds * 1000))));
    for (const s of ended) this.endedSessions.set(s.sid, this.sessionUntil(s.endedAt!.getTime()));
  }

  private sessionUntil(endedAtMs: number) {
    return endedAtMs + this.accessTokenTtlSeconds * 1000;
  }

  isRevoked(jti: string): boolean {
    return live(this.revoked, jti, this.clock.now());
  }

  /** Has the session this access token was issued in ended? */
  isSessionEnded(sid: string): boolean {
    return live(this.endedSessions, sid, this.clock.now());
  }

  async revoke(jti: string, expiresAtMs: number) {
    if (expiresAtMs <= this.clock.now()) return;
    await this.db
      .insert(revokedTokens)
      .values({ jti, expiresAt: new Date(expiresAtMs) })
      .onConflictDoNothing();
    this.revoked.set(jti, expiresAtMs);
    await this.state.publish(CHANNEL, `${jti} ${expiresAtMs}`);
  }

  /**
   * Sessions whose end (sessions.ended_at) the caller has committed: their access tokens fail from now
   * on, on every instance.
   */
  async sessionsEnded(sids: readonly string[], endedAtMs: number) {
    const until = this.sessionUntil(endedAtMs);
    for (const sid of sids) {
      this.endedSessions.set(sid, until);
      await this.state.publish(CHANNEL, `${SID}${sid} ${until}`);
    }
  }

  async prune() {
    await this.db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, new Date(this.clock.now())));
  }
}

/** An entry that has not yet lapsed (lapsed ones are dropped on sight). */
function live(entries: Map<string, number>, key: string, now: number): boolean {
  const until = entries.get(key);
  if (until === undefined) return false;
  if (until <= now) {
    entries.delete(key);
    return false;
  }
  return true;
}

declare module '../../kernel/warden.js' {
  interface Warden {
    readonly revocations: RevocationList;
  }
}
