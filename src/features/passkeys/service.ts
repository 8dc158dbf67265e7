import { randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { and, asc, eq } from 'drizzle-orm';
import type { RequestContext } from '../audit/audit-log.js';
import { badRequest, notFound, ProblemError, unprocessable } from '../../kernel/errors.js';
import { passkeys } from './tables.js';
import { findUserById, type UserRecord } from '../users/repository.js';
import { RECENT_SIGN_IN_MS } from '../users/service.js';
import type { Warden } from '../../kernel/warden.js';

/**
 * Passkeys (WebAuthn discoverable credentials) with @simplewebauthn/server (docs/passkeys.md).
 *
 * Challenges live in the shared state store (so every instance agrees), each for CHALLENGE_TTL_MS and
 * for one purpose and, when registering, one user; a challenge is used once: a second response with the
 * same challenge is refused (a replayed assertion). The relying party is WEBAUTHN_RP_ID (default the
 * host of PUBLIC_URL); responses from origins other than WEBAUTHN_ORIGINS (default PUBLIC_URL's and
 * ISSUER's) are refused. Every registration, use, refusal and removal is an audit event.
 */
export const CHALLENGE_TTL_MS = 5 * 60_000;
export const MAX_PASSKEYS = 20;

export interface PasskeyOut {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  backed_up: boolean;
}

type Row = typeof passkeys.$inferSelect;

export const toPasskeyOut = (r: Row): PasskeyOut => ({
  id: r.id,
  name: r.name,
  created_at: r.createdAt.toISOString(),
  last_used_at: r.lastUsedAt?.toISOString() ?? null,
  backed_up: r.backedUp,
});

interface Challenge {
  purpose: 'register' | 'authenticate';
  userId?: string;
}

/** Why a response was refused: audited, never shown beyond "not accepted". */
export type PasskeyFailure = 'challenge' | 'verification' | 'unknown_credential' | 'wrong_user' | 'user_unavailable' | 'counter' | 'backup_state' | 'malformed';

export class PasskeyError extends ProblemError {
  constructor(readonly reason: PasskeyFailure) {
    super(400, 'invalid_passkey', 'the passkey response was not accepted', { errors: [{ field: 'response', message: 'was not accepted' }] });
  }
}

const origin = (url: string) => new URL(url).origin;

export class PasskeyService {
  readonly rpId: string;
  readonly origins: string[];

  constructor(private readonly w: Warden) {
    const c = w.config;
    this.rpId = c.WEBAUTHN_RP_ID ?? new URL(c.publicUrl).hostname;
    const listed = (c.WEBAUTHN_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    this.origins = listed.length ? listed : [...new Set([origin(c.publicUrl), origin(c.issuer)])];
  }

  private now() {
    return new Date(this.w.clock.now());
  }

  list(userId: string): Promise<Row[]> {
    return this.w.db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt));
  }

  private async newChallenge(challenge: string, c: Challenge) {
    await this.w.state.set(`webauthn:challenge:${challenge}`, JSON.stringify(c), CHALLENGE_TTL_MS);
  }

  /** The challenge's record when it was issued for this purpose (and user) and is used now for the first time. */
  private async takeChallenge(challenge: string, purpose: Challenge['purpose'], userId?: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) return false;
    const raw = await this.w.state.get(`webauthn:challenge:${challenge}`);
    if (!raw) return false;
    const c = JSON.parse(raw) as Challenge;
    // A challenge issued for one user (registration, a second factor) serves only that user's response,
    // and one issued for a discoverable sign-in only such a sign-in.
    if (c.purpose !== purpose || c.userId !== userId) return false;
    // Single use, atomically across instances: only the first response with it gets through.
    if (!(await this.w.state.setIfAbsent(`webauthn:used:${challenge}`, '1', CHALLENGE_TTL_MS))) return false;
    await this.w.state.delete(`webauthn:challenge:${challenge}`);
    return true;
  }

  /**
   * Registration needs a recent sign-in (`authTime`, epoch ms, within RECENT_SIGN_IN_MS) or the current
   * password: a stolen access token or an unattended browser alone must not add a way in.
   */
  async checkRecent(user: UserRecord, authTimeMs: number | undefined, password: string | undefined, ctx: RequestContext) {
    if (password) {
      if (await this.w.users.confirmPassword(user, password, ctx)) return;
      await this.w.audit.record(this.w.db, { type: 'passkey.registration_failed', subjectId: user.id, details: { reason: 'wrong_password' } }, ctx);
      throw unprocessable('wrong_password', 'current_password is not correct', [{ field: 'current_password', message: 'is not correct' }]);
    }
    if (authTimeMs !== undefined && this.w.clock.now() - authTimeMs <= RECENT_SIGN_IN_MS) return;
    throw unprocessable('current_password_required', 'adding a passkey needs a sign-in within the last 5 minutes or current_password', [
      { field: 'current_password', message: 'is required to add a passkey' },
    ]);
  }

  async registrationOptions(user: UserRecord): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.list(user.id);
    if (existing.length >= MAX_PASSKEYS) throw unprocessable('invalid_passkey', `at most ${MAX_PASSKEYS} passkeys`, [{ field: 'name', message: `at most ${MAX_PASSKEYS} passkeys` }]);
    const options = await generateRegistrationOptions({
      rpName: 'Warden',
      rpID: this.rpId,
      userName: user.username,
      userDisplayName: user.fullName ?? user.username,
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      timeout: CHALLENGE_TTL_MS,
    });
    await this.newChallenge(options.challenge, { purpose: 'register', userId: user.id });
    return options;
  }

  async register(user: UserRecord, response: unknown, name: string, ctx: RequestContext): Promise<Row> {
    const fail = async (reason: PasskeyFailure) => {
      await this.w.audit.record(this.w.db, { type: 'passkey.registration_failed', subjectId: user.id, details: { reason } }, ctx);
      return new PasskeyError(reason);
    };
    if (!isCredentialJson(response)) throw await fail('malformed');
    let challengeOk = false;
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response: response as unknown as RegistrationResponseJSON,
        expectedChallenge: async (c) => (challengeOk = await this.takeChallenge(c, 'register', user.id)),
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        requireUserVerification: true,
      });
    } catch (e) {
      if (e instanceof ProblemError) throw e;
      throw await fail(challengeOk ? 'verification' : 'challenge');
    }
    if (!verification.verified) throw await fail('verification');
    const info = verification.registrationInfo;
    const row = {
      id: randomUUID(),
      userId: user.id,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: (info.credential.transports ?? []).filter((t) => typeof t === 'string').slice(0, 10),
      backedUp: info.credentialBackedUp,
      deviceType: info.credentialDeviceType,
      name,
      createdAt: this.now(),
      lastUsedAt: null,
    };
    try {
      await this.w.db.transaction(async (tx) => {
        await tx.insert(passkeys).values(row);
        await this.w.audit.record(
          tx,
          { type: 'passkey.registered', subjectId: user.id, details: { passkey_id: row.id, name, device_type: row.deviceType, backed_up: row.backedUp } },
          { ...ctx, actorId: ctx.actorId ?? user.id },
        );
      });
    } catch (e) {
      if ((e as { code?: string }).code === '23505' || /unique|duplicate/i.test(String((e as Error).message))) throw badRequest('invalid_passkey', 'this passkey is registered already', [{ field: 'response', message: 'this passkey is registered already' }]);
      throw e;
    }
    return row;
  }

  async authenticationOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({ rpID: this.rpId, userVerification: 'required', timeout: CHALLENGE_TTL_MS });
    await this.newChallenge(options.challenge, { purpose: 'authenticate' });
    return options;
  }

  /**
   * Options for a passkey as the second factor of `userId` (docs/passkeys.md): that user's credentials
   * only (allowCredentials), and a challenge that only an assertion for that user may use.
   */
  async authenticationOptionsFor(userId: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const own = await this.list(userId);
    const options = await generateAuthenticationOptions({
      rpID: this.rpId,
      userVerification: 'required',
      timeout: CHALLENGE_TTL_MS,
      allowCredentials: own.map((p) => ({ id: p.credentialId, transports: p.transports })),
    });
    await this.newChallenge(options.challenge, { purpose: 'authenticate', userId });
    return options;
  }

  /**
   * A discoverable-credential sign-in: the response names the credential; its user must be enabled.
   * With `expectedUserId` (a passkey as the second factor), the credential must be that user's and the
   * challenge one issued for them. Returns the user and whether the authenticator verified the user
   * (always, as it is required).
   */
  async authenticate(response: unknown, ctx: RequestContext, expectedUserId?: string): Promise<{ user: UserRecord; passkeyId: string; userVerified: boolean }> {
    const fail = async (reason: PasskeyFailure, userId?: string, passkeyId?: string) => {
      await this.w.audit.record(
        this.w.db,
        { type: reason === 'counter' ? 'passkey.counter_regressed' : 'passkey.failed', subjectId: userId ?? null, actorId: userId ?? null, details: { reason, ...(passkeyId ? { passkey_id: passkeyId } : {}) } },
        ctx,
      );
      return new PasskeyError(reason);
    };
    if (!isCredentialJson(response)) throw await fail('malformed');
    const [row] = await this.w.db.select().from(passkeys).where(eq(passkeys.credentialId, response.id)).limit(1);
    if (!row) throw await fail('unknown_credential');
    // Another user's passkey never completes this user's sign-in.
    if (expectedUserId !== undefined && row.userId !== expectedUserId) throw await fail('wrong_user', expectedUserId, row.id);
    let challengeOk = false;
    let result;
    try {
      result = await verifyAuthenticationResponse({
        response: response as unknown as AuthenticationResponseJSON,
        expectedChallenge: async (c) => (challengeOk = await this.takeChallenge(c, 'authenticate', expectedUserId)),
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        credential: { id: row.credentialId, publicKey: Buffer.from(row.publicKey, 'base64url'), counter: row.counter, transports: row.transports },
        requireUserVerification: true,
      });
    } catch (e) {
      const counter = challengeOk && /counter/i.test(String((e as Error).message));
      throw await fail(counter ? 'counter' : challengeOk ? 'verification' : 'challenge', row.userId, row.id);
    }
    if (!result.verified) throw await fail('verification', row.userId, row.id);
    const info = result.authenticationInfo;
    // The backup eligibility (device type) of a credential never changes; a flip means another authenticator.
    if (info.credentialDeviceType !== row.deviceType) throw await fail('backup_state', row.userId, row.id);
    const user = await findUserById(this.w.db, row.userId);
    if (!user || user.disabled || (this.w.config.REQUIRE_VERIFIED_EMAIL && !user.emailVerified)) throw await fail('user_unavailable', row.userId, row.id);
    const now = this.now();
    await this.w.db.transaction(async (tx) => {
      await tx.update(passkeys).set({ counter: info.newCounter, backedUp: info.credentialBackedUp, lastUsedAt: now }).where(eq(passkeys.id, row.id));
      await this.w.audit.record(
        tx,
        { type: 'passkey.used', subjectId: user.id, details: { passkey_id: row.id, name: row.name, user_verified: info.userVerified, backed_up: info.credentialBackedUp } },
        { ...ctx, actorId: user.id },
      );
    });
    return { user, passkeyId: row.id, userVerified: info.userVerified };
  }

  /** Remove one of `userId`'s passkeys; `ctx.actorId` says who (the user or an admin). */
  async remove(userId: string, id: string, ctx: RequestContext): Promise<void> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('no such passkey');
    await this.w.db.transaction(async (tx) => {
      const [gone] = await tx.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId))).returning();
      if (!gone) throw notFound('no such passkey');
      await this.w.audit.record(tx, { type: 'passkey.removed', subjectId: userId, details: { passkey_id: id, name: gone.name } }, ctx);
    });
  }
}

/** The outer shape of a PublicKeyCredential's JSON; the library checks the rest. */
function isCredentialJson(v: unknown): v is { id: string; rawId: string; type: string; response: Record<string, unknown> } {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.id === 'string' &&
    /^[A-Za-z0-9_-]{1,1400}$/.test(o.id) &&
    typeof o.rawId === 'string' &&
    o.type === 'public-key' &&
    !!o.response &&
    typeof o.response === 'object' &&
    typeof (o.response as Record<string, unknown>).clientDataJSON === 'string'
  );
}
