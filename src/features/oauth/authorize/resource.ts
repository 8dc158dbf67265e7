import type { Api } from '../../apis/repository.js';
import { apiOfStored, decideScopes } from '../../apis/resources.js';
import { OAuthError } from '../../../kernel/errors.js';
import type { UserRecord } from '../../users/repository.js';
import type { Warden } from '../../../kernel/warden.js';
import type { OAuthClient } from '../clients/service.js';
import { OIDC_SCOPES } from '../scopes.js';
import type { AuthorizationRequest } from './session.js';
import type { OAuthErrorCode } from '../../../kernel/error-catalogue.js';

/**
 * What this signed-in user can be granted at the requested API (their roles' permissions), decided
 * before consent so the page lists exactly what the code will carry; nothing grantable → invalid_scope.
 */
export function userGrant(w: Warden, client: OAuthClient, req: AuthorizationRequest, user: UserRecord): { api: Api; scopes: string[] } | { error: OAuthErrorCode; description: string } {
  const api = apiOfStored(w.catalog, req.resource ?? null);
  if (!api) return { error: 'invalid_target', description: 'the API of this request no longer exists' };
  try {
    const scopes = decideScopes(w.catalog, { api, requested: req.scopes.join(' '), fallback: [], client, subject: { kind: 'user', roles: user.roles }, refuseEmpty: true });
    return { api, scopes };
  } catch (e) {
    if (e instanceof OAuthError) return { error: e.error, description: e.description };
    throw e;
  }
}

const OIDC = new Set<string>(OIDC_SCOPES);

/**
 * Remembered consent names another API's scopes with that API (`orders:read@https://orders.example`):
 * two APIs may both have a scope called `read`, and consent to one is no consent to the other.
 */
export function consentKeys(api: Api, scopes: readonly string[]): string[] {
  return api.builtIn ? [...scopes] : scopes.map((s) => (OIDC.has(s) ? s : `${s}@${api.identifier}`));
}
