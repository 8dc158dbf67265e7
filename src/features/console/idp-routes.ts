import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProviderIn } from '../federation/providers.js';
import { ProblemError } from '../../kernel/errors.js';
import { isConfirmed } from '../../kernel/html/layout.js';
import type { ConsoleKit } from './access-routes.js';
import { identityProvidersPage } from './idp-pages.js';
import { BASE, refusedPage } from './pages.js';

const DONE: Record<string, string> = { created: 'Provider added.', deleted: 'Provider deleted.' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The console's page of upstream sign-in providers: the same service (rules, sealing, audit) as /admin/identity-providers. */
export function identityProviderConsoleRoutes(app: FastifyInstance, kit: ConsoleKit) {
  const w = app.warden;
  const providers = w.identityProviders;
  const { opts, send, viewer, ctxOf, field } = kit;
  const PAGE = `${BASE}/identity-providers`;

  const render = async (request: FastifyRequest, reply: FastifyReply, status = 200, error?: string) => {
    const done = DONE[String((request.query as Record<string, unknown>).done)];
    return send(reply, status, identityProvidersPage(viewer(request), await providers.list(), { done, error, callbackBase: w.config.issuer }));
  };
  const refused = (request: FastifyRequest, reply: FastifyReply, e: unknown) => {
    if (!(e instanceof ProblemError)) throw e;
    return render(request, reply, e.status, e.errors?.length ? e.errors.map((x) => `${x.field}: ${x.message}`).join('; ') : e.detail);
  };

  app.get(PAGE, opts('identity_providers:list'), (request, reply) => render(request, reply));

  app.post(PAGE, opts('identity_providers:manage'), async (request, reply) => {
    const b = request.body;
    const kind = field(b, 'kind');
    if (kind !== 'oidc' && kind !== 'github') return render(request, reply, 422, 'kind: OpenID Connect or GitHub.');
    const input: ProviderIn = {
      kind,
      name: (field(b, 'name') ?? '').trim().slice(0, 100),
      issuer: kind === 'oidc' ? (field(b, 'issuer') ?? '').trim() || undefined : undefined,
      client_id: (field(b, 'client_id') ?? '').trim(),
      client_secret: field(b, 'client_secret') ?? '',
      scopes: (field(b, 'scopes') ?? '').trim() || undefined,
    };
    const missing = (['name', 'client_id', 'client_secret'] as const).filter((k) => !input[k]);
    if (kind === 'oidc' && !input.issuer) missing.push('issuer' as never);
    if (missing.length) return render(request, reply, 422, missing.map((k) => `${k}: required`).join('; '));
    try {
      await providers.create(input, ctxOf(request));
    } catch (e) {
      return refused(request, reply, e);
    }
    return reply.redirect(`${PAGE}?done=created`, 303);
  });

  app.post(`${PAGE}/:id/delete`, opts('identity_providers:manage'), async (request, reply) => {
    const id = (request.params as { id: string }).id;
    if (!UUID.test(id) || !(await providers.find(id))) return send(reply, 404, refusedPage('No such provider.'));
    if (!isConfirmed(request.body)) return render(request, reply, 422, 'Tick the confirmation box to delete the provider.');
    try {
      await providers.delete(id, ctxOf(request));
    } catch (e) {
      return refused(request, reply, e);
    }
    return reply.redirect(`${PAGE}?done=deleted`, 303);
  });
}
