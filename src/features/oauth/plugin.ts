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
import { adminKeyRoutes, maintainSigningKeys, reloadSigningKeys } from './keys-routes.js';
import { revokeRoutes } from './revoke.js';
import { userinfoRoutes } from './userinfo.js';
import { logoutRoutes } from './logout.js';
import { BACKCHANNEL_POLL_MS, BackchannelLogout } from '../sessions/backchannel-logout.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

/** How often signing keys are checked for retirement / scheduled rotation, and expired OAuth rows pruned. */
const MAINTENANCE_MS = 10 * 60_000;

/**
 * The OAuth 2.0 / OpenID Connect authorization server on top of the token endpoint: client registry
 * and authentication, the authorization_code and client_credentials grants, id_token, /authorize,
 * /revoke, /introspect, /userinfo, discovery and JWKS, signing-key administration.
 */
async function authorizationServer(app: FastifyInstance) {
  app.oauth.registerGrantType('authorization_code', authorizationCodeGrant);
  app.oauth.registerGrantType('client_credentials', clientCredentialsGrant);
  app.oauth.useClientAuthentication(authenticateClient);
  app.oauth.addTokenResponseExtension(addIdToken);

  const w = app.warden;
  // Several instances on one database: each job runs on one of them at a time (docs/jobs.md).
  app.jobs.register({
    name: 'signing-keys.maintain',
    everyMs: MAINTENANCE_MS,
    // Soon after start: a scheduled rotation that fell due while Warden was stopped is made here, not at start.
    firstAfterMs: 60_000,
    singleRunner: true,
    run: async () => {
      const { retired, rotated } = await maintainSigningKeys(w);
      return { retired, rotated: rotated ? 1 : 0 };
    },
  });
  // Every instance: a safety net for a rotation or retirement whose announcement did not arrive.
  app.jobs.register({ name: 'signing-keys.reload', everyMs: MAINTENANCE_MS, run: () => reloadSigningKeys(w) });
  app.jobs.register({
    name: 'authorization-codes.prune',
    everyMs: MAINTENANCE_MS,
    singleRunner: true,
    run: ({ db, now }) => pruneAuthorizationCodes(db, now),
  });
  app.jobs.register({
    name: 'refresh-tokens.prune',
    everyMs: MAINTENANCE_MS,
    singleRunner: true,
    run: ({ db, now }) => pruneRefreshTokens(db, now, w.config.REFRESH_REUSE_GRACE_SECONDS),
  });
  app.jobs.register({
    name: 'revoked-tokens.prune',
    everyMs: MAINTENANCE_MS,
    singleRunner: true,
    run: () => w.revocations.prune(),
  });
  app.jobs.register({
    name: 'sessions.prune',
    everyMs: MAINTENANCE_MS,
    singleRunner: true,
    run: ({ db, now }) => pruneSessions(db, now, { accessSeconds: w.config.accessTokenTtlSeconds, refreshSeconds: w.config.refreshTokenTtlSeconds }),
  });
  app.jobs.register({
    name: 'known-devices.prune',
    everyMs: MAINTENANCE_MS,
    singleRunner: true,
    run: ({ db, now }) => pruneNewDeviceRows(db, now, w.config.refreshTokenTtlSeconds),
  });

  // OIDC Back-Channel Logout: this instance's share of the outbox, from the start (a restart resumes it).
  // Every instance (rows are claimed one by one, FOR UPDATE SKIP LOCKED), every second: the receiver
  // should hear that a session ended within about that long.
  const backchannel = new BackchannelLogout(w, app.log);
  app.jobs.register({
    name: 'backchannel-logouts.deliver',
    everyMs: BACKCHANNEL_POLL_MS,
    firstAfterMs: 0,
    run: async ({ signal }) => ({ ...(await backchannel.runOnce(signal)) }),
  });

  await app.register(discoveryRoutes);
  await app.register(authorizeRoutes);
  await app.register(logoutRoutes);
  await app.register(revokeRoutes);
  await app.register(introspectRoutes);
  await app.register(userinfoRoutes);
  await app.register(adminClientRoutes);
  await app.register(adminKeyRoutes);
}

export const oauthServer = fp(authorizationServer, { name: 'warden-oauth', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit', '@fastify/formbody', 'warden-jobs', 'warden-token-endpoint'] });
