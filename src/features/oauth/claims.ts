import type { UserRecord } from '../users/repository.js';

/** OpenID Connect Core §5.4: the claims each scope releases. */
export const CLAIMS_BY_SCOPE = {
  profile: ['name', 'preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
} as const;

export const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'amr', 'acr', 'sid', ...CLAIMS_BY_SCOPE.profile, ...CLAIMS_BY_SCOPE.email];

/** The `sub` Warden uses for a user everywhere (access token, id_token, userinfo): JWT_SUBJECT decides. */
export function subjectOf(user: UserRecord, by: 'id' | 'username'): string {
  return by === 'username' ? user.username : user.id;
}

export function userClaims(user: UserRecord, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes('profile')) {
    claims.preferred_username = user.username;
    if (user.fullName) claims.name = user.fullName;
    claims.updated_at = Math.floor(user.updatedAt.getTime() / 1000);
  }
  if (scopes.includes('email')) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  return claims;
}
