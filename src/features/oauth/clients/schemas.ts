import { Type, type Static } from 'typebox';
import { SCOPE_TOKEN } from '../../apis/schemas.js';

/** What the client may ask for at each API (RFC 8707 resource): `{"<identifier>": ["scope", ...]}`. */
export const Resources = Type.Record(Type.String({ minLength: 1, maxLength: 300 }), Type.Array(Type.String({ pattern: SCOPE_TOKEN }), { maxItems: 200, uniqueItems: true }), {
  maxProperties: 100,
  description: 'Warden extension: the scopes this client may ask for at each API, by identifier',
});
/** PATCH /admin/clients/{id}: what the client may ask for at each API, and its logout metadata. */
export const ClientResourcesPatch = Type.Object(
  {
    resources: Type.Optional(Resources),
    post_logout_redirect_uris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 20 })),
    backchannel_logout_uri: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 2000 }), Type.Null()])),
    backchannel_logout_session_required: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ClientPatch = Static<typeof ClientResourcesPatch>;

/** RFC 7591 §2 client metadata (the subset Warden acts on) plus Warden's first_party flag. */
export const ClientMetadata = Type.Object(
  {
    client_name: Type.String({ minLength: 1, maxLength: 200 }),
    redirect_uris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 20 })),
    grant_types: Type.Optional(
      Type.Array(
        Type.Union([Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials'), Type.Literal('password')]),
        { maxItems: 4 },
      ),
    ),
    response_types: Type.Optional(Type.Array(Type.Literal('code'), { maxItems: 1 })),
    token_endpoint_auth_method: Type.Optional(Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post'), Type.Literal('none')])),
    scope: Type.Optional(Type.String({ maxLength: 1000 })),
    first_party: Type.Optional(Type.Boolean({ description: 'Warden extension: may use the password grant and skips consent' })),
    resources: Type.Optional(Resources),
    post_logout_redirect_uris: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 20, description: 'OIDC RP-Initiated Logout: where /logout may return the browser (exact match)' }),
    ),
    backchannel_logout_uri: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2000, description: 'OIDC Back-Channel Logout: an http(s) URI that receives a logout_token when a session of this client ends' }),
    ),
    backchannel_logout_session_required: Type.Optional(Type.Boolean({ description: 'OIDC Back-Channel Logout: the logout_token must carry sid (Warden always sends it)' })),
  },
  { additionalProperties: false },
);
export type ClientMetadata = Static<typeof ClientMetadata>;

export const ClientOut = Type.Object({
  client_id: Type.String(),
  client_name: Type.String(),
  redirect_uris: Type.Array(Type.String()),
  grant_types: Type.Array(Type.String()),
  response_types: Type.Array(Type.String()),
  token_endpoint_auth_method: Type.String(),
  scope: Type.String(),
  first_party: Type.Boolean(),
  resources: Type.Record(Type.String(), Type.Array(Type.String())),
  post_logout_redirect_uris: Type.Array(Type.String()),
  backchannel_logout_uri: Type.Union([Type.String(), Type.Null()]),
  backchannel_logout_session_required: Type.Boolean(),
  client_type: Type.Union([Type.Literal('public'), Type.Literal('confidential')]),
  client_id_issued_at: Type.Integer(),
  secret_rotated_at: Type.Union([Type.String(), Type.Null()]),
});
export type ClientOut = Static<typeof ClientOut>;

/** The answer to create and rotate: the only time the secret is ever shown. */
export const ClientWithSecret = Type.Intersect([
  ClientOut,
  Type.Object({ client_secret: Type.Optional(Type.String()), client_secret_expires_at: Type.Optional(Type.Integer()) }),
]);

export const ClientList = Type.Object({ items: Type.Array(ClientOut), next_cursor: Type.Union([Type.String(), Type.Null()]) });
export const ClientListQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }), cursor: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);
export const ClientIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
