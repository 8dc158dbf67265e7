import { Type, type Static } from 'typebox';

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` and `\`. */
export const SCOPE_TOKEN = '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,100}$';

export const ScopeIn = Type.Object(
  { name: Type.String({ pattern: SCOPE_TOKEN }), description: Type.Optional(Type.String({ maxLength: 300 })) },
  { additionalProperties: false },
);

export const ApiIn = Type.Object(
  {
    identifier: Type.String({ minLength: 1, maxLength: 300, description: 'an absolute URI or a plain string; it becomes the tokens\' `aud`' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Optional(Type.Array(ScopeIn, { maxItems: 200 })),
    access_token_ttl_seconds: Type.Optional(Type.Union([Type.Integer({ minimum: 60, maximum: 86400 }), Type.Null()])),
    allow_offline_access: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ApiIn = Static<typeof ApiIn>;

export const ApiPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    scopes: Type.Optional(Type.Array(ScopeIn, { maxItems: 200, description: 'the whole list: scopes left out are removed (with the permissions on them)' })),
    access_token_ttl_seconds: Type.Optional(Type.Union([Type.Integer({ minimum: 60, maximum: 86400 }), Type.Null()])),
    allow_offline_access: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ApiPatch = Static<typeof ApiPatch>;

export const ApiOut = Type.Object({
  id: Type.String(),
  identifier: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.Object({ name: Type.String(), description: Type.String(), built_in: Type.Boolean() })),
  access_token_ttl_seconds: Type.Union([Type.Integer(), Type.Null()]),
  allow_offline_access: Type.Boolean(),
  built_in: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type ApiOut = Static<typeof ApiOut>;

export const PermissionIn = Type.Object(
  { api: Type.String({ minLength: 1, maxLength: 300, description: 'the API identifier' }), scope: Type.String({ pattern: SCOPE_TOKEN }) },
  { additionalProperties: false },
);
export type PermissionIn = Static<typeof PermissionIn>;

export const ROLE_NAME = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';

export const RoleIn = Type.Object(
  {
    name: Type.String({ pattern: ROLE_NAME }),
    description: Type.Optional(Type.String({ maxLength: 300 })),
    permissions: Type.Optional(Type.Array(PermissionIn, { maxItems: 500 })),
  },
  { additionalProperties: false },
);
export type RoleIn = Static<typeof RoleIn>;

export const RolePatch = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 300 })),
    permissions: Type.Optional(Type.Array(PermissionIn, { maxItems: 500, description: 'the whole list' })),
  },
  { additionalProperties: false },
);
export type RolePatch = Static<typeof RolePatch>;

export const RoleOut = Type.Object({
  name: Type.String(),
  description: Type.String(),
  permissions: Type.Array(Type.Object({ api: Type.String(), scope: Type.String() })),
  built_in: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type RoleOut = Static<typeof RoleOut>;

export const ListQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }), cursor: Type.Optional(Type.String({ maxLength: 400 })) },
  { additionalProperties: false },
);
export const ApiList = Type.Object({ items: Type.Array(ApiOut), next_cursor: Type.Union([Type.String(), Type.Null()]) });
export const RoleList = Type.Object({ items: Type.Array(RoleOut), next_cursor: Type.Union([Type.String(), Type.Null()]) });
export const ApiIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const RoleNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
export const ForceQuery = Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
