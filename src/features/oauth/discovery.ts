import type { FastifyInstance } from 'fastify';
import type { Warden } from '../../kernel/warden.js';
import { CLAIMS_SUPPORTED } from './claims.js';
import { ACR_VALUES } from './id-token.js';
import type { OAuthRegistry } from './grant.js';
import { OIDC_SCOPES } from './scopes.js';

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'];

/** RFC 8414 / OIDC Discovery 1.0 metadata. Built per request: grants registered later appear too. */
export function serverMetadata(w: Warden, oauth: OAuthRegistry) {
  const iss = w.config.issuer;
  const grantTypes = oauth.grantTypes().filter((g) => g !== 'password' || w.config.PASSWORD_GRANT === 'enabled');
  return {
    issuer: iss,
    authorization_endpoint: `${iss}/authorize`,
    token_endpoint: `${iss}/token`,
    userinfo_endpoint: `${iss}/userinfo`,
    jwks_uri: `${iss}/.well-known/jwks.json`,
    revocation_endpoint: `${iss}/revoke`,
    introspection_endpoint: `${iss}/introspect`,
    // OIDC RP-Initiated Logout 1.0 §2.1 and Back-Channel Logout 1.0 §2.1.
    end_session_endpoint: `${iss}/logout`,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    scopes_supported: scopesSupported(w),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: grantTypes,
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    id_token_signing_alg_values_supported: [w.keys.idTokenAlgorithm],
    subject_types_supported: ['public'],
    claims_supported: CLAIMS_SUPPORTED,
    // What /authorize honours; select_account is refused with account_selection_required (one sign-in per browser).
    prompt_values_supported: ['none', 'login', 'consent'],
    acr_values_supported: [...ACR_VALUES],
    // The claims parameter is checked (malformed JSON: invalid_request) and not acted on (OIDC Core §5.5).
    claims_parameter_supported: false,
    ui_locales_supported: ['en'],
    // RFC 9207: the authorization response carries iss, so a client can tell which server answered (mix-up attacks).
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

const PUBLIC = { kind: 'public', reason: 'discovery (RFC 8414, OIDC Discovery) and public keys' } as const;

export async function discoveryRoutes(app: FastifyInstance) {
  const w = app.warden;
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(path, { config: { access: PUBLIC } }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return serverMetadata(w, app.oauth);
    });
  }
  app.get('/.well-known/jwks.json', { config: { access: PUBLIC } }, async (_request, reply) => {
    // Short: a rotation publishes a new key that resource servers must see within a minute.
    reply.header('cache-control', 'public, max-age=60');
    return w.keys.jwks();
  });
}

/** OIDC's scopes, then every registered API's (Warden's own first): what a client may ask for here. */
function scopesSupported(w: Warden): string[] {
  const apis = [...w.catalog.apis()].sort((a, b) => Number(b.builtIn) - Number(a.builtIn));
  return [...new Set([...OIDC_SCOPES, ...apis.flatMap((a) => w.catalog.offeredScopes(a))])];
}
