import { Type, type Static } from 'typebox';
import { ROLES } from '../access/roles.js';

export const Username = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  description: 'letters, digits, _ . - ; 3 to 32 characters',
});
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const FullName = Type.String({ minLength: 1, maxLength: 200 });
/** Length and content are checked by the password policy, which names every problem. */
export const Password = Type.String({ minLength: 1, maxLength: 1024, description: 'see the password policy' });
/** A role's name: the built-in ones (ROLES) or any role defined since (src/features/apis/), checked to exist by the route. */
export const RoleName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', examples: [...ROLES] });

export const RegisterBody = Type.Object(
  { username: Username, email: Email, password: Password, full_name: Type.Optional(FullName) },
  { additionalProperties: false },
);
export type RegisterBody = Static<typeof RegisterBody>;

export const UserOut = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    username: Type.String(),
    email: Type.String(),
    full_name: Type.Union([Type.String(), Type.Null()]),
    roles: Type.Array(Type.String()),
    disabled: Type.Boolean(),
    email_verified: Type.Boolean(),
    pending_email: Type.Optional(Type.String({ description: 'a new address waiting for its verification link; `email` stays until then' })),
    created_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type UserOut = Static<typeof UserOut>;

export const UpdateMeBody = Type.Object(
  {
    full_name: Type.Optional(Type.Union([FullName, Type.Null()])),
    /** A new address stays pending until its mailed link is followed. */
    email: Type.Optional(Email),
    /** Required with a new email (unless the access token shows a sign-in within the last 5 minutes). */
    current_password: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateMeBody = Static<typeof UpdateMeBody>;

export const ChangePasswordBody = Type.Object(
  { current_password: Password, new_password: Password },
  { additionalProperties: false },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

export const AdminUserPatch = Type.Object(
  { roles: Type.Optional(Type.Array(RoleName, { uniqueItems: true, maxItems: 20 })), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
export type AdminUserPatch = Static<typeof AdminUserPatch>;

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export const UserListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
  },
  { additionalProperties: false },
);
export type UserListQuery = Static<typeof UserListQuery>;

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export const UserList = Type.Object({ items: Type.Array(UserOut), next_cursor: Type.Union([Type.String(), Type.Null()]) });
