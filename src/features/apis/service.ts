import type { AuditLog, RequestContext } from '../audit/audit-log.js';
import type { Clock } from '../../kernel/clock.js';
import { badRequest, conflict, notFound, ProblemError, unprocessable, type FieldError } from '../../kernel/errors.js';
import type { Db } from '../../kernel/storage/database.js';
import type { UserCache } from '../users/user-cache.js';
import { OIDC_SCOPES } from '../oauth/scopes.js';
import type { AccessCatalog } from './catalog.js';
import {
  deleteApi,
  deleteRole,
  insertApi,
  insertRole,
  replaceScopes,
  roleHolders,
  setPermissions,
  updateApi,
  updateRole,
  type Api,
  type Permission,
  type RoleRecord,
} from './repository.js';
import type { ApiIn, ApiOut, ApiPatch, PermissionIn, RoleIn, RoleOut, RolePatch } from './schemas.js';

export function toApiOut(a: Api): ApiOut {
  return {
    id: a.id,
    identifier: a.identifier,
    name: a.name,
    scopes: a.scopes.map((s) => ({ name: s.name, description: s.description, built_in: s.builtIn })),
    access_token_ttl_seconds: a.accessTokenTtlSeconds,
    allow_offline_access: a.allowOfflineAccess,
    built_in: a.builtIn,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}

export function toRoleOut(r: RoleRecord, catalog: AccessCatalog): RoleOut {
  return {
    name: r.name,
    description: r.description,
    permissions: r.permissions.map((p) => ({ api: catalog.byId(p.apiId)?.identifier ?? p.apiId, scope: p.scope })),
    built_in: r.builtIn,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** Lists are small (a handful of APIs and roles) and come from the catalog, paged by name. */
function page<T>(items: T[], key: (t: T) => string, q: { limit: number; cursor?: string | undefined }) {
  const after = q.cursor === undefined ? undefined : Buffer.from(q.cursor, 'base64url').toString('utf8');
  if (q.cursor !== undefined && !after) throw badRequest('invalid_cursor', 'cursor is not one this server handed out', [{ field: 'cursor', message: 'invalid cursor' }]);
  const rest = after === undefined ? items : items.filter((i) => key(i) > after);
  const slice = rest.slice(0, q.limit);
  const last = slice[slice.length - 1];
  return { items: slice, next_cursor: rest.length > q.limit && last ? Buffer.from(key(last), 'utf8').toString('base64url') : null };
}

/**
 * RFC 8707 §2: a resource is an absolute URI without a fragment; Auth0-style plain names ("orders-api")
 * are accepted too. Neither may hold whitespace (a token's `aud` is compared byte for byte).
 */
function identifierProblem(identifier: string): string | undefined {
  if (/\s/.test(identifier)) return 'must not contain whitespace';
  if (identifier.includes('#')) return 'must not contain a fragment (RFC 8707 §2)';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(identifier) && !URL.canParse(identifier)) return 'is not a valid absolute URI';
  return undefined;
}

function scopeProblems(scopes: { name: string }[], field: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  scopes.forEach((s, i) => {
    if (seen.has(s.name)) errors.push({ field: `${field}.${i}.name`, message: `"${s.name}" is listed twice` });
    if ((OIDC_SCOPES as readonly string[]).includes(s.name)) errors.push({ field: `${field}.${i}.name`, message: `"${s.name}" is an OpenID Connect scope` });
    seen.add(s.name);
  });
  return errors;
}

const invalid = (errors: FieldError[]) => unprocessable('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), errors);

/**
 * API resources and roles: every change in one transaction with its audit event (before and after),
 * then announced so every instance's catalog (tokens, Warden's own guard) follows.
 */
export class AccessAdmin {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly catalog: AccessCatalog,
    private readonly userCache: UserCache,
  ) {}

  private now() {
    return new Date(this.clock.now());
  }

  // ---- APIs ----

  listApis(q: { limit: number; cursor?: string | undefined }) {
    const p = page([...this.catalog.apis()], (a) => a.identifier, q);
    return { items: p.items.map(toApiOut), next_cursor: p.next_cursor };
  }

  api(id: string): Api {
    const a = this.catalog.byId(id) ?? this.catalog.byIdentifier(id);
    if (!a) throw notFound('no such API');
    return a;
  }

  async createApi(input: ApiIn, ctx: RequestContext): Promise<ApiOut> {
    const scopes = (input.scopes ?? []).map((s) => ({ name: s.name, description: s.description ?? '' }));
    const errors = scopeProblems(scopes, 'scopes');
    const problem = identifierProblem(input.identifier);
    if (problem) errors.unshift({ field: 'identifier', message: problem });
    if (errors.length) throw invalid(errors);
    const id = await this.db.transaction(async (tx) => {
      const newId = await insertApi(tx, {
        identifier: input.identifier,
        name: input.name,
        accessTokenTtlSeconds: input.access_token_ttl_seconds ?? null,
        allowOfflineAccess: input.allow_offline_access ?? true,
        scopes,
        now: this.now(),
      });
      if (!newId) throw conflict('api_exists', `an API with the identifier "${input.identifier}" exists`, 'identifier');
      await this.audit.record(tx, { type: 'api.created', subjectId: newId, details: { after: { identifier: input.identifier, name: input.name, scopes: scopes.map((s) => s.name) } } }, ctx);
      return newId;
    });
    await this.catalog.changed();
    return toApiOut(this.api(id));
  }

  /** `scopes` replaces the whole list; the built-in API keeps its own scopes and lifetime (the setting). */
  async updateApi(id: string, patch: ApiPatch, ctx: RequestContext): Promise<ApiOut> {
    const before = this.api(id);
    const errors: FieldError[] = [];
    const scopes = patch.scopes?.map((s) => ({ name: s.name, description: s.description ?? '' }));
    if (scopes) errors.push(...scopeProblems(scopes, 'scopes'));
    const removed = scopes ? before.scopes.filter((s) => !scopes.some((n) => n.name === s.name)) : [];
    const keptBuiltIn = removed.filter((s) => s.builtIn);
    if (keptBuiltIn.length) errors.push({ field: 'scopes', message: `built-in scopes cannot be removed: ${keptBuiltIn.map((s) => s.name).join(' ')}` });
    if (before.builtIn && patch.access_token_ttl_seconds !== undefined) {
      errors.push({ field: 'access_token_ttl_seconds', message: "Warden's own API follows ACCESS_TOKEN_EXPIRE_MINUTES" });
    }
    if (errors.length) throw invalid(errors);
    await this.db.transaction(async (tx) => {
      await updateApi(tx, before.id, { name: patch.name, accessTokenTtlSeconds: patch.access_token_ttl_seconds, allowOfflineAccess: patch.allow_offline_access }, this.now());
      if (scopes) {
        const builtInNames = new Set(before.scopes.filter((s) => s.builtIn).map((s) => s.name));
        await replaceScopes(tx, before.id, removed.map((s) => s.name), scopes.filter((s) => !builtInNames.has(s.name) || s.description));
      }
      await this.audit.record(tx, { type: 'api.updated', subjectId: before.id, details: { before: toApiOut(before), after: patch } }, ctx);
    });
    await this.catalog.changed();
    return toApiOut(this.api(before.id));
  }

  async addScope(id: string, scope: { name: string; description?: string | undefined }, ctx: RequestContext): Promise<ApiOut> {
    const api = this.api(id);
    if (api.scopes.some((s) => s.name === scope.name)) throw conflict('scope_exists', `the API already has the scope "${scope.name}"`, 'name');
    return this.updateApi(api.id, { scopes: [...api.scopes, { name: scope.name, description: scope.description ?? '' }] }, ctx);
  }

  async removeScope(id: string, name: string, ctx: RequestContext): Promise<ApiOut> {
    const api = this.api(id);
    const scope = api.scopes.find((s) => s.name === name);
    if (!scope) throw notFound(`the API has no scope "${name}"`);
    if (scope.builtIn) throw conflict('built_in_scope', `"${name}" is a built-in scope of Warden's own API`, 'scope');
    return this.updateApi(api.id, { scopes: api.scopes.filter((s) => s.name !== name) }, ctx);
  }

  async deleteApi(id: string, ctx: RequestContext) {
    const before = this.api(id);
    if (before.builtIn) throw conflict('built_in_api', "Warden's own API cannot be deleted");
    await this.db.transaction(async (tx) => {
      await deleteApi(tx, before.id, before.identifier);
      await this.audit.record(tx, { type: 'api.deleted', subjectId: before.id, details: { before: toApiOut(before) } }, ctx);
    });
    await this.catalog.changed();
  }

  // ---- roles ----

  listRoles(q: { limit: number; cursor?: string | undefined }) {
    const p = page(this.catalog.roles(), (r) => r.name, q);
    return { items: p.items.map((r) => toRoleOut(r, this.catalog)), next_cursor: p.next_cursor };
  }

  role(name: string): RoleRecord {
    const r = this.catalog.role(name);
    if (!r) throw notFound('no such role');
    return r;
  }

  roleOut(name: string): RoleOut {
    return toRoleOut(this.role(name), this.catalog);
  }

  /** Each permission names an existing API (by identifier) and one of its scopes. */
  private permissions(input: PermissionIn[], field: string): Permission[] {
    const errors: FieldError[] = [];
    const out: Permission[] = [];
    input.forEach((p, i) => {
      const api = this.catalog.byIdentifier(p.api);
      if (!api) errors.push({ field: `${field}.${i}.api`, message: `no API has the identifier "${p.api}"` });
      else if (!api.scopes.some((s) => s.name === p.scope)) errors.push({ field: `${field}.${i}.scope`, message: `the API "${p.api}" has no scope "${p.scope}"` });
      else out.push({ apiId: api.id, scope: p.scope });
    });
    if (errors.length) throw invalid(errors);
    return out;
  }

  async createRole(input: RoleIn, ctx: RequestContext): Promise<RoleOut> {
    const permissions = this.permissions(input.permissions ?? [], 'permissions');
    await this.db.transaction(async (tx) => {
      const ok = await insertRole(tx, { name: input.name, description: input.description ?? '', permissions, now: this.now() });
      if (!ok) throw conflict('role_exists', `a role named "${input.name}" exists`, 'name');
      await this.audit.record(tx, { type: 'role.created', subjectId: input.name, details: { after: { description: input.description ?? '', permissions: input.permissions ?? [] } } }, ctx);
    });
    await this.catalog.changed();
    return this.roleOut(input.name);
  }

  async updateRole(name: string, patch: RolePatch, ctx: RequestContext): Promise<RoleOut> {
    const before = this.roleOut(name);
    const permissions = patch.permissions && this.permissions(patch.permissions, 'permissions');
    await this.db.transaction(async (tx) => {
      await updateRole(tx, name, { description: patch.description }, this.now());
      if (permissions) await setPermissions(tx, name, permissions);
      const after = { description: patch.description ?? before.description, permissions: patch.permissions ?? before.permissions };
      await this.audit.record(tx, { type: 'role.updated', subjectId: name, details: { before: { description: before.description, permissions: before.permissions }, after } }, ctx);
    });
    await this.catalog.changed();
    return this.roleOut(name);
  }

  async grant(name: string, permission: PermissionIn, ctx: RequestContext): Promise<RoleOut> {
    const r = this.roleOut(name);
    if (r.permissions.some((p) => p.api === permission.api && p.scope === permission.scope)) return r;
    return this.updateRole(name, { permissions: [...r.permissions, permission] }, ctx);
  }

  async revoke(name: string, permission: PermissionIn, ctx: RequestContext): Promise<RoleOut> {
    const r = this.roleOut(name);
    if (!r.permissions.some((p) => p.api === permission.api && p.scope === permission.scope)) throw notFound(`the role "${name}" has no permission ${permission.api} ${permission.scope}`);
    return this.updateRole(name, { permissions: r.permissions.filter((p) => !(p.api === permission.api && p.scope === permission.scope)) }, ctx);
  }

  /**
   * A built-in role cannot go. A role that users hold goes only with `force` (they lose it at once:
   * their cached records are dropped on every instance); the event is flagged then.
   */
  async deleteRole(name: string, force: boolean, ctx: RequestContext) {
    const before = this.roleOut(name);
    if (before.built_in) throw conflict('built_in_role', `"${name}" is a built-in role and cannot be deleted`);
    const holders = await this.db.transaction(async (tx) => {
      const users = await roleHolders(tx, name);
      if (users.length && !force) {
        throw new ProblemError(409, 'role_in_use', `${users.length} user(s) hold the role "${name}"; delete with ?force=true to take it from them`, {
          errors: [{ field: 'force', message: 'required: the role is held' }],
        });
      }
      await deleteRole(tx, name);
      await this.audit.record(
        tx,
        { type: 'role.deleted', subjectId: name, flagged: users.length > 0, details: { before: { description: before.description, permissions: before.permissions }, holders: users.length, forced: force } },
        ctx,
      );
      return users;
    });
    await this.catalog.changed();
    for (const id of holders) await this.userCache.invalidate(id);
  }

  /** The names among `roles` that are no role (PATCH /admin/users, `warden user set-roles`). */
  unknownRoles(roles: readonly string[]): string[] {
    return roles.filter((r) => !this.catalog.role(r));
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    /** Changes to APIs and roles (admin API, CLI), audited and announced to every instance. */
    readonly accessAdmin: AccessAdmin;
  }
}
