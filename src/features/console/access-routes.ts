import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { Permission } from '../access/roles.js';
import type { RequestContext } from '../audit/audit-log.js';
import { roleHolders } from '../apis/repository.js';
import type { ApiIn, ApiPatch, PermissionIn } from '../apis/schemas.js';
import { ProblemError } from '../../kernel/errors.js';
import { apiPage, apisPage, clientResourcesPage, rolePage, rolesPage } from './access-pages.js';
import { BASE, refusedPage, type Viewer } from './pages.js';

/** What the console plugin lends its sections: the guarded route options and the page helpers. */
export interface ConsoleKit {
  opts: (permission: Permission) => RouteShorthandOptions;
  send: (reply: FastifyReply, status: number, body: string) => FastifyReply;
  viewer: (request: FastifyRequest) => Viewer;
  ctxOf: (request: FastifyRequest) => RequestContext;
  field: (body: unknown, name: string) => string | undefined;
  fields: (body: unknown, name: string) => string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Fixed messages for ?done=… (never text taken from the URL). */
const DONE: Record<string, string> = {
  created: 'Created.',
  saved: 'Saved.',
  scope_added: 'Scope added.',
  scope_removed: 'Scope removed; roles and clients no longer hold it.',
  deleted: 'Deleted.',
};

/** The problem's field errors as one line ("identifier: must be …; name: …"), else its detail. */
function problemText(e: ProblemError): string {
  return e.errors?.length ? e.errors.map((x) => `${x.field}: ${x.message}`).join('; ') : e.detail;
}

/** "orders:read Read orders" lines → scopes. */
function scopeLines(text: string | undefined) {
  return (text ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 200)
    .map((l) => {
      const [name, ...rest] = l.split(/\s+/);
      return { name: name!.slice(0, 100), description: rest.join(' ').slice(0, 300) };
    });
}

/** An empty box is "the default" (null); anything else must be a whole number, else the service refuses it. */
function ttlField(v: string | undefined): number | null | 'bad' {
  const s = v?.trim();
  if (!s) return null;
  return /^\d{1,6}$/.test(s) ? Number(s) : 'bad';
}

/**
 * /admin/console/apis, /roles and /clients/:id/resources: the same operations as /admin/apis, /admin/roles
 * and PATCH /admin/clients/:id, through the same service (so the same rules and audit events).
 */
export function accessConsoleRoutes(app: FastifyInstance, kit: ConsoleKit) {
  const w = app.warden;
  const { opts, send, viewer, ctxOf, field, fields } = kit;
  const doneOf = (request: FastifyRequest) => DONE[String((request.query as Record<string, unknown>).done)];

  /** Runs a change; a refusal re-renders the page with the reason, a success redirects with a message. */
  async function change(reply: FastifyReply, act: () => Promise<string>, fail: (status: number, error: string) => Promise<FastifyReply> | FastifyReply) {
    try {
      return reply.redirect(await act(), 303);
    } catch (e) {
      if (e instanceof ProblemError) return fail(e.status, problemText(e));
      throw e;
    }
  }

  // --- APIs ------------------------------------------------------------------------------------

  const renderApis = async (request: FastifyRequest, reply: FastifyReply, status = 200, error?: string) => {
    await w.catalog.fresh();
    return send(reply, status, apisPage(viewer(request), w.catalog.apis(), { done: doneOf(request), error }));
  };
  const apiOf = (request: FastifyRequest) => {
    const id = (request.params as { id: string }).id;
    return UUID.test(id) ? w.catalog.byId(id) : undefined;
  };
  const renderApi = async (request: FastifyRequest, reply: FastifyReply, status = 200, error?: string) => {
    await w.catalog.fresh();
    const api = apiOf(request);
    if (!api) return send(reply, 404, refusedPage('No such API.'));
    return send(reply, status, apiPage(viewer(request), api, { done: doneOf(request), error }));
  };

  app.get(`${BASE}/apis`, opts('apis:list'), (request, reply) => renderApis(request, reply));

  app.post(`${BASE}/apis`, opts('apis:create'), async (request, reply) => {
    const b = request.body;
    const ttl = ttlField(field(b, 'access_token_ttl_seconds'));
    if (ttl === 'bad') return renderApis(request, reply, 422, 'access_token_ttl_seconds: a whole number of seconds, 60–86400.');
    const input: ApiIn = {
      identifier: (field(b, 'identifier') ?? '').trim().slice(0, 300),
      name: (field(b, 'name') ?? '').trim().slice(0, 200),
      scopes: scopeLines(field(b, 'scopes')),
      access_token_ttl_seconds: ttl,
      allow_offline_access: field(b, 'allow_offline_access') === 'true',
    };
    if (!input.identifier || !input.name) return renderApis(request, reply, 422, 'An API needs an identifier and a name.');
    if (ttl !== null && (ttl < 60 || ttl > 86400)) return renderApis(request, reply, 422, 'access_token_ttl_seconds: a whole number of seconds, 60–86400.');
    return change(
      reply,
      async () => `${BASE}/apis/${(await w.accessAdmin.createApi(input, ctxOf(request))).id}?done=created`,
      (status, error) => renderApis(request, reply, status, error),
    );
  });

  app.get(`${BASE}/apis/:id`, opts('apis:list'), (request, reply) => renderApi(request, reply));

  app.post(`${BASE}/apis/:id`, opts('apis:update'), async (request, reply) => {
    const api = apiOf(request);
    if (!api) return send(reply, 404, refusedPage('No such API.'));
    const b = request.body;
    const patch: ApiPatch = { name: (field(b, 'name') ?? '').trim().slice(0, 200) || api.name, allow_offline_access: field(b, 'allow_offline_access') === 'true' };
    if (!api.builtIn) {
      const ttl = ttlField(field(b, 'access_token_ttl_seconds'));
      if (ttl === 'bad' || (ttl !== null && (ttl < 60 || ttl > 86400))) return renderApi(request, reply, 422, 'access_token_ttl_seconds: a whole number of seconds, 60–86400.');
      patch.access_token_ttl_seconds = ttl;
    }
    return change(
      reply,
      async () => (await w.accessAdmin.updateApi(api.id, patch, ctxOf(request)), `${BASE}/apis/${api.id}?done=saved`),
      (status, error) => renderApi(request, reply, status, error),
    );
  });

  app.post(`${BASE}/apis/:id/scopes`, opts('apis:update'), async (request, reply) => {
    const api = apiOf(request);
    if (!api) return send(reply, 404, refusedPage('No such API.'));
    const name = (field(request.body, 'name') ?? '').trim();
    if (!/^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/.test(name)) return renderApi(request, reply, 422, 'Scope: 1–100 printable characters without spaces, quotes or backslashes.');
    const description = (field(request.body, 'description') ?? '').trim().slice(0, 300);
    return change(
      reply,
      async () => (await w.accessAdmin.addScope(api.id, { name, description }, ctxOf(request)), `${BASE}/apis/${api.id}?done=scope_added`),
      (status, error) => renderApi(request, reply, status, error),
    );
  });

  app.post(`${BASE}/apis/:id/scopes/remove`, opts('apis:update'), async (request, reply) => {
    const api = apiOf(request);
    if (!api) return send(reply, 404, refusedPage('No such API.'));
    if (field(request.body, 'confirm') !== 'yes') return renderApi(request, reply, 422, 'Tick the confirmation box to remove a scope.');
    const scope = String((request.query as Record<string, unknown>).scope ?? '');
    return change(
      reply,
      async () => (await w.accessAdmin.removeScope(api.id, scope, ctxOf(request)), `${BASE}/apis/${api.id}?done=scope_removed`),
      (status, error) => renderApi(request, reply, status, error),
    );
  });

  app.post(`${BASE}/apis/:id/delete`, opts('apis:delete'), async (request, reply) => {
    const api = apiOf(request);
    if (!api) return send(reply, 404, refusedPage('No such API.'));
    if (field(request.body, 'confirm') !== 'yes') return renderApi(request, reply, 422, 'Tick the confirmation box to delete the API.');
    return change(
      reply,
      async () => (await w.accessAdmin.deleteApi(api.id, ctxOf(request)), `${BASE}/apis?done=deleted`),
      (status, error) => renderApi(request, reply, status, error),
    );
  });

  // --- roles -----------------------------------------------------------------------------------

  const renderRoles = async (request: FastifyRequest, reply: FastifyReply, status = 200, error?: string) => {
    await w.catalog.fresh();
    return send(reply, status, rolesPage(viewer(request), w.catalog.roles(), w.catalog.apis(), { done: doneOf(request), error }));
  };
  const roleName = (request: FastifyRequest) => (request.params as { name: string }).name;
  const renderRole = async (request: FastifyRequest, reply: FastifyReply, status = 200, error?: string) => {
    await w.catalog.fresh();
    const role = w.catalog.role(roleName(request));
    if (!role) return send(reply, 404, refusedPage('No such role.'));
    const holders = (await roleHolders(w.db, role.name)).length;
    return send(reply, status, rolePage(viewer(request), role, w.catalog.apis(), holders, { done: doneOf(request), error }));
  };
  const roleUrl = (name: string) => `${BASE}/roles/${encodeURIComponent(name)}`;

  app.get(`${BASE}/roles`, opts('roles:list'), (request, reply) => renderRoles(request, reply));

  app.post(`${BASE}/roles`, opts('roles:create'), async (request, reply) => {
    const name = (field(request.body, 'name') ?? '').trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(name)) return renderRoles(request, reply, 422, 'Role name: up to 64 letters, digits and _ . : - (starting with a letter or digit).');
    const description = (field(request.body, 'description') ?? '').trim().slice(0, 300);
    return change(
      reply,
      async () => (await w.accessAdmin.createRole({ name, description }, ctxOf(request)), `${roleUrl(name)}?done=created`),
      (status, error) => renderRoles(request, reply, status, error),
    );
  });

  app.get(`${BASE}/roles/:name`, opts('roles:list'), (request, reply) => renderRole(request, reply));

  app.post(`${BASE}/roles/:name`, opts('roles:update'), async (request, reply) => {
    const role = w.catalog.role(roleName(request));
    if (!role) return send(reply, 404, refusedPage('No such role.'));
    const permissions: PermissionIn[] = [];
    for (const value of new Set(fields(request.body, 'perm').slice(0, 500))) {
      const [apiId, scope] = value.split(' ');
      const api = apiId && UUID.test(apiId) ? w.catalog.byId(apiId) : undefined;
      if (!api || !scope) return renderRole(request, reply, 422, 'A permission names an API that no longer exists; reload the page.');
      permissions.push({ api: api.identifier, scope });
    }
    const description = (field(request.body, 'description') ?? '').trim().slice(0, 300);
    return change(
      reply,
      async () => (await w.accessAdmin.updateRole(role.name, { description, permissions }, ctxOf(request)), `${roleUrl(role.name)}?done=saved`),
      (status, error) => renderRole(request, reply, status, error),
    );
  });

  app.post(`${BASE}/roles/:name/delete`, opts('roles:delete'), async (request, reply) => {
    const role = w.catalog.role(roleName(request));
    if (!role) return send(reply, 404, refusedPage('No such role.'));
    if (field(request.body, 'confirm') !== 'yes') return renderRole(request, reply, 422, 'Tick the confirmation box to delete the role.');
    // Ticking the box on a held role is the console's `?force=true`: the page said who loses it.
    return change(
      reply,
      async () => (await w.accessAdmin.deleteRole(role.name, true, ctxOf(request)), `${BASE}/roles?done=deleted`),
      (status, error) => renderRole(request, reply, status, error),
    );
  });

  // --- a client's per-API grants ---------------------------------------------------------------

  const renderGrants = async (request: FastifyRequest, reply: FastifyReply, status = 200, error?: string) => {
    await w.catalog.fresh();
    const id = (request.params as { id: string }).id;
    const client = await w.clients.get(id).catch((e: unknown) => {
      if (e instanceof ProblemError) return undefined;
      throw e;
    });
    if (!client) return send(reply, 404, refusedPage('No such client.'));
    return send(reply, status, clientResourcesPage(viewer(request), client, w.catalog.apis(), { done: doneOf(request), error }));
  };

  app.get(`${BASE}/clients/:id/resources`, opts('clients:list'), (request, reply) => renderGrants(request, reply));

  app.post(`${BASE}/clients/:id/resources`, opts('clients:create'), async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const resources: Record<string, string[]> = {};
    for (const value of new Set(fields(request.body, 'grant').slice(0, 500))) {
      const [apiId, scope] = value.split(' ');
      const api = apiId && UUID.test(apiId) ? w.catalog.byId(apiId) : undefined;
      if (!api || !scope) return renderGrants(request, reply, 422, 'A grant names an API that no longer exists; reload the page.');
      (resources[api.identifier] ??= []).push(scope);
    }
    return change(
      reply,
      async () => (await w.clients.setResources(id, resources, ctxOf(request)), `${BASE}/clients/${encodeURIComponent(id)}/resources?done=saved`),
      (status, error) => renderGrants(request, reply, status, error),
    );
  });
}
