import type { FastifyInstance } from 'fastify';
import { pruneSessions } from '../sessions/repository.js';
import { pruneNewDeviceRows } from '../sessions/new-device.js';
import { pruneRefreshTokens } from '../tokens/refresh-token.js';
import { pruneAuthorizationCodes } from './authorization-code.js';
import { authorizeRoutes } from './authorize/routes.js';
import { authenticateClient } from './client-auth.js';
import { adminClientRoutes } from './clients/routes.js';
import { discoveryRoutes } from './discovery.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { addIdToken } from './id-token.js';
import { introspectRoutes } from './introspect.js';
import { tokenResponseExtensions } from './issue.js';
import { adminKeyRoutes, maintainSigningKeys } from './keys-routes.js';
import { revokeRoutes } from './revoke.js';
import { clientAuthentication, grants } from './token-endpoint.js';
import { userinfoRoutes } from './userinfo.js';
import { logoutRoutes } from './logout.js';
import { BackchannelLogout } from '../sessions/backchannel-logout.js';

/** How often signing keys are checked for retirement / scheduled rotation, and old codes pruned. */
const MAINTENANCE_MS = 10 * 60_000;

/**
 * The OAuth 2.0 / OpenID Connect authorization server on top of the token endpoint: client registry
 * and authentication, the authorization_code and client_credentials grants, id_token, /authorize,
 * /revoke, /introspect, /userinfo, discovery and JWKS, signing-key administration.
 */
export async function oauthServer(app: FastifyInstance) {
  grants.set('authorization_code', authorizationCodeGrant);
  grants.set('client_credentials', clientCredentialsGrant);
  clientAuthentication.authenticate = authenticateClient;
  if (!tokenResponseExtensions.includes(addIdToken)) tokenResponseExtensions.push(addIdToken);

  const w = app.warden;
  const timer = setInterval(() => {
    maintainSigningKeys(w)
      .then(() => pruneAuthorizationCodes(w.db, new Date(w.clock.now())))
      .then(() => pruneRefreshTokens(w.db, new Date(w.clock.now()), w.config.REFRESH_REUSE_GRACE_SECONDS))
      .then(() => pruneSessions(w.db, new Date(w.clock.now()), { accessSeconds: w.config.accessTokenTtlSeconds, refreshSeconds: w.config.refreshTokenTtlSeconds }))
      .then(() => pruneNewDeviceRows(w.db, new Date(w.clock.now()), w.config.refreshTokenTtlSeconds))
      .catch((err: unknown) => app.log.error({ err }, 'signing key maintenance failed'));
  }, MAINTENANCE_MS);
  timer.unref();
  w.timers.push(timer);

  // OIDC Back-Channel Logout: this instance's share of the outbox, from the start (a restart resumes it).
  const backchannel = new BackchannelLogout(w, app.log);
  app.addHook('onReady', async () => backchannel.start());
  app.addHook('onClose', async () => backchannel.stop());

  await app.register(discoveryRoutes);
  await app.register(authorizeRoutes);
  await app.register(logoutRoutes);
  await app.register(revokeRoutes);
  await app.register(introspectRoutes);
  await app.register(userinfoRoutes);
  await app.register(adminClientRoutes);
  await app.register(adminKeyRoutes);
}
