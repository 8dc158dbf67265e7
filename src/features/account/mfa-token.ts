import { createHash } from 'node:crypto';
import type { StateStore } from '../../kernel/storage/state/store.js';
import { newOpaqueToken } from '../../kernel/secrets.js';

/** A password login waiting for its second factor. */
export interface MfaChallenge {
  userId: string;
  /** The client the password grant was called by; only it may complete the login. */
  clientId: string | null;
  scopes: string[];
  /** The API (identifier) the login is for; absent: Warden's own (src/features/apis/resources.ts). */
  resource?: string | null;
  /** What the user typed as username (lockout guards key on it). */
  login: string;
  /** When the password was checked (ms); sessions ended after it void the challenge. */
  passwordAt: number;
}

export const MFA_TOKEN_TTL_MS = 5 * 60_000;
/** Wrong codes one mfa_token may carry before the user has to sign in again. */
export const MFA_TOKEN_ATTEMPTS = 5;

const key = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * The mfa_token: opaque, 256 random bits, kept only as a hash in the shared state store for five
 * minutes (so any instance can complete the login), bound to user, client and scope, single use.
 */
export class MfaTokens {
  constructor(private readonly state: StateStore) {}

  async issue(challenge: MfaChallenge): Promise<string> {
    const token = newOpaqueToken('wmfa_');
    await this.state.set(`mfa:challenge:${key(token)}`, JSON.stringify(challenge), MFA_TOKEN_TTL_MS);
    return token;
  }

  async read(token: string): Promise<MfaChallenge | undefined> {
    if (!token.startsWith('wmfa_')) return undefined;
    const raw = await this.state.get(`mfa:challenge:${key(token)}`);
    return raw ? (JSON.parse(raw) as MfaChallenge) : undefined;
  }

  /** Count one attempt; false once the token has had its MFA_TOKEN_ATTEMPTS (then it is dropped). */
  async attempt(token: string): Promise<boolean> {
    const { value } = await this.state.increment(`mfa:challenge-attempts:${key(token)}`, MFA_TOKEN_TTL_MS);
    if (value <= MFA_TOKEN_ATTEMPTS) return true;
    await this.state.delete(`mfa:challenge:${key(token)}`);
    return false;
  }

  /** Use it up: of two concurrent completions exactly one gets true. */
  async consume(token: string): Promise<boolean> {
    const k = key(token);
    const first = await this.state.setIfAbsent(`mfa:challenge-used:${k}`, '1', MFA_TOKEN_TTL_MS);
    await this.state.delete(`mfa:challenge:${k}`);
    return first;
  }
}
