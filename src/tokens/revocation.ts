import { gt, lt } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../storage/database.js';
import { revokedTokens } from '../storage/schema.js';
import type { StateStore } from '../storage/state/store.js';

const CHANNEL = 'warden:revoked-jti';

/**
 * Access tokens revoked before expiry (RFC 7009, code reuse, admin action). Kept in the database so a
 * restart forgets nothing, mirrored in memory so the per-request check costs a map lookup, and
 * announced through the state store so every instance learns of it at once.
 */
export class RevocationList {
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly state: StateStore,
    private readonly clock: Clock,
  ) {}

  async init() {
    await this.load();
    // Revocations announced while this instance was cut off from the state store are in the database.
    this.state.onReconnect?.(() => void this.load().catch(() => {}));
    this.state.subscribe(CHANNEL, (message) => {
      const [jti, exp] = message.split(' ');
      if (jti && exp) this.revoked.set(jti, Number(exp));
    });
  }

  private async load() {
    const rows = await this.db.select().from(revokedTokens).where(gt(revokedTokens.expiresAt, new Date(this.clock.now())));
    for (const r of rows) this.revoked.set(r.jti, r.expiresAt.getTime());
  }

  isRevoked(jti: string): boolean {
    const exp = this.revoked.get(jti);
    if (exp === undefined) return false;
    if (exp <= this.clock.now()) {
      this.revoked.delete(jti);
      return false;
    }
    return true;
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

  async prune() {
    await this.db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, new Date(this.clock.now())));
  }
}
