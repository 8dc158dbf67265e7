import { invalidGrant, invalidRequest, OAuthError } from '../../kernel/errors.js';
import type { GrantHandler } from '../oauth/grant.js';
import { newSignIn } from '../oauth/grants/password.js';
import type { OAuthRegistry, PasswordGrantStep } from '../oauth/grant.js';
import { issueUserTokens } from '../oauth/issue.js';
import type { Config } from '../../kernel/config/load.js';
import { findUserById } from '../users/repository.js';
import { MfaTokens } from './mfa-token.js';
import { apiOfStored, selectApi, storedResource } from '../apis/resources.js';

export const MFA_GRANT = 'urn:warden:mfa';

/**
 * After a correct password: a user with TOTP gets 400 {error:"mfa_required", mfa_token} instead of
 * tokens; an admin without TOTP under REQUIRE_ADMIN_MFA=true gets 400 mfa_enrollment_required.
 */
export const mfaPasswordStep: PasswordGrantStep = async (g, user, scopes) => {
  const w = g.warden;
  const requirement = await w.mfa.requirement(user);
  if (requirement === 'none') return;
  if (requirement === 'enrollment_required') {
    await w.audit.record(w.db, { type: 'login.failed', actorId: user.id, subjectId: user.id, details: { reason: 'mfa_enrollment_required' } }, g.ctx);
    throw new OAuthError(
      'mfa_enrollment_required',
      'administrators must have two-factor authentication (TOTP) enabled to sign in on this server (REQUIRE_ADMIN_MFA); enrol at POST /users/me/mfa/totp while signed in, or ask another admin',
    );
  }
  const mfaToken = await new MfaTokens(w.state).issue({
    userId: user.id,
    clientId: g.client?.clientId ?? null,
    scopes,
    resource: storedResource(selectApi(w.catalog, g.params)),
    login: g.params.username ?? user.username,
    passwordAt: w.clock.now(),
  });
  throw new OAuthError('mfa_required', `two-factor authentication required: POST /token with grant_type=${MFA_GRANT}, mfa_token and code (a TOTP or recovery code)`, {
    extra: { mfa_token: mfaToken },
  });
};

/** grant_type=urn:warden:mfa: mfa_token (from mfa_required) + code (TOTP or recovery code) → tokens. */
export const mfaGrant: GrantHandler = async (g) => {
  const { params, client, warden: w } = g;
  if (!params.mfa_token) throw invalidRequest('mfa_token is required');
  if (!params.code) throw invalidRequest('code is required');
  const tokens = new MfaTokens(w.state);
  const expired = 'mfa_token is invalid, used or expired; sign in again';
  const challenge = await tokens.read(params.mfa_token);
  if (!challenge) throw invalidGrant(expired);
  if (challenge.clientId !== (client?.clientId ?? null)) throw invalidGrant('mfa_token was issued to another client');
  if (!(await tokens.attempt(params.mfa_token))) throw invalidGrant('too many wrong codes; sign in again');
  if (!(await w.mfa.verify(challenge.userId, params.code, g.ctx, { login: challenge.login }))) throw invalidGrant('the code is not valid');
  if (!(await tokens.consume(params.mfa_token))) throw invalidGrant(expired);
  const user = await findUserById(w.db, challenge.userId);
  if (!user || user.disabled) throw invalidGrant('this account is disabled');
  // A password reset or force-logout between the two steps voids the half-finished login.
  if (user.tokensValidAfter.getTime() > challenge.passwordAt) throw invalidGrant(expired);
  const api = apiOfStored(w.catalog, challenge.resource ?? null);
  if (!api) throw invalidGrant('the API this sign-in was for no longer exists');
  const issued = await w.db.transaction(async (tx) => {
    const res = await issueUserTokens(w, tx, {
      user,
      clientId: challenge.clientId,
      scopes: challenge.scopes,
      api,
      grant: 'password',
      authTime: new Date(w.clock.now()),
      newSession: { amr: ['pwd', 'otp'], ctx: g.ctx },
      withRefresh: true,
      responseExtensions: g.oauth.tokenResponseExtensions,
    });
    const details = { grant: MFA_GRANT, client_id: challenge.clientId, scope: res.scope };
    await w.audit.record(tx, { type: 'token.issued', actorId: user.id, subjectId: user.id, details }, g.ctx);
    await w.audit.record(tx, { type: 'login.succeeded', actorId: user.id, subjectId: user.id, details: { via: 'password_grant', mfa: 'totp' } }, g.ctx);
    return res;
  });
  await newSignIn(g, user, issued, 'password + two-step code (API)');
  return issued;
};

/**
 * Register the grant and the password-grant step into this app. The grant only completes a password
 * grant, so an app without one (PASSWORD_GRANT=disabled) offers neither.
 */
export function registerMfaGrant(oauth: OAuthRegistry, config: Pick<Config, 'PASSWORD_GRANT'>) {
  if (config.PASSWORD_GRANT !== 'enabled') return;
  oauth.registerGrantType(MFA_GRANT, mfaGrant);
  oauth.addPasswordGrantStep(mfaPasswordStep);
}
