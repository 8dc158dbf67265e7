/** Roles and what each may do. Guards check permissions; roles are built from this map. */
export const ROLES = ['admin', 'user', 'guest'] as const;
export type Role = (typeof ROLES)[number];
export const DEFAULT_ROLE: Role = 'user';

export const PERMISSIONS = {
  admin: {
    users: ['list', 'read', 'update', 'disable', 'logout'],
    clients: ['create', 'list', 'rotate', 'delete'],
    apis: ['create', 'list', 'update', 'delete'],
    roles: ['create', 'list', 'update', 'delete'],
    identity_providers: ['list', 'manage'],
    keys: ['list', 'rotate'],
    audit: ['read'],
    items: ['read-any'],
    secure: ['read'],
  },
  user: { items: ['create', 'read', 'update', 'delete'], secure: ['read'] },
  guest: { secure: ['read'] },
} as const satisfies Record<Role, Record<string, readonly string[]>>;

type PermissionsOf<R extends Role> = {
  [S in keyof (typeof PERMISSIONS)[R]]: `${S & string}:${(typeof PERMISSIONS)[R][S] extends readonly (infer A)[] ? A & string : never}`;
}[keyof (typeof PERMISSIONS)[R]];
export type Permission = PermissionsOf<'admin'> | PermissionsOf<'user'> | PermissionsOf<'guest'>;

export function isRole(r: string): r is Role {
  return (ROLES as readonly string[]).includes(r);
}

export function can(roles: readonly string[], permission: Permission): boolean {
  const [subject, action] = permission.split(':') as [string, string];
  return roles.some((r) => {
    if (!isRole(r)) return false;
    const actions = (PERMISSIONS[r] as Record<string, readonly string[]>)[subject];
    return actions?.includes(action) ?? false;
  });
}
