import { ProblemError } from '../kernel/errors.js';
import type { ClientMetadata } from '../features/oauth/clients/schemas.js';
import { required, UsageError, type Command } from './command.js';
import { cliContext, withWarden } from './context.js';

const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials', 'password'] as const;
const METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;

function list(v: unknown): string[] {
  return ((v as string[] | undefined) ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
}

/** The service's 422 as one line. */
function asUsage(e: unknown): never {
  if (e instanceof ProblemError) throw new UsageError(e.errors?.map((x) => `${x.field} ${x.message}`).join('; ') || e.detail);
  throw e;
}

const createUsage =
  'client create --name N [--redirect-uri URI ...] [--grant authorization_code,refresh_token|client_credentials|password] [--auth-method client_secret_basic|client_secret_post|none] [--scope "openid profile"] [--first-party] [--post-logout-redirect-uri URI ...] [--backchannel-logout-uri URI [--backchannel-logout-session-required]]';
export const clientCreate: Command = {
  name: 'client create',
  summary: 'register an OAuth client; prints client_id and, once, client_secret',
  usage: createUsage,
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    grant: { type: 'string', multiple: true },
    'auth-method': { type: 'string' },
    scope: { type: 'string' },
    'first-party': { type: 'boolean' },
    'post-logout-redirect-uri': { type: 'string', multiple: true },
    'backchannel-logout-uri': { type: 'string' },
    'backchannel-logout-session-required': { type: 'boolean' },
  },
  async run({ values }) {
    const name = required(values, 'name', createUsage);
    const grants = list(values.grant);
    const badGrant = grants.find((g) => !(GRANTS as readonly string[]).includes(g));
    if (badGrant) throw new UsageError(`unknown grant "${badGrant}" (grants: ${GRANTS.join(', ')})`);
    const method = values['auth-method'] as string | undefined;
    if (method !== undefined && !(METHODS as readonly string[]).includes(method)) throw new UsageError(`--auth-method: one of ${METHODS.join(', ')}`);
    const meta: ClientMetadata = {
      client_name: name,
      redirect_uris: list(values['redirect-uri']),
      ...(grants.length ? { grant_types: grants as ClientMetadata['grant_types'] } : {}),
      ...(method ? { token_endpoint_auth_method: method as ClientMetadata['token_endpoint_auth_method'] } : {}),
      ...(typeof values.scope === 'string' ? { scope: values.scope } : {}),
      first_party: values['first-party'] === true,
      ...(values['post-logout-redirect-uri'] ? { post_logout_redirect_uris: list(values['post-logout-redirect-uri']) } : {}),
      ...(typeof values['backchannel-logout-uri'] === 'string' ? { backchannel_logout_uri: values['backchannel-logout-uri'] } : {}),
      ...(values['backchannel-logout-session-required'] === true ? { backchannel_logout_session_required: true } : {}),
    };
    await withWarden(async (w) => {
      const { client, secret } = await w.clients.create(meta, cliContext).catch(asUsage);
      console.log(`client_id      ${client.client_id}`);
      if (secret) console.log(`client_secret  ${secret}\n(shown once: store it now; only its hash is kept)`);
      console.log(`type ${client.client_type}, grants ${client.grant_types.join(',')}, scope "${client.scope}"`);
      if (client.post_logout_redirect_uris.length) console.log(`post-logout redirect URIs ${client.post_logout_redirect_uris.join(' ')}`);
      if (client.backchannel_logout_uri) console.log(`back-channel logout URI ${client.backchannel_logout_uri}${client.backchannel_logout_session_required ? ' (sid required)' : ''}`);
    });
  },
};

export const clientList: Command = {
  name: 'client list',
  summary: 'list OAuth clients',
  usage: 'client list',
  async run() {
    await withWarden(async (w) => {
      let cursor: string | undefined;
      do {
        const page = await w.clients.list({ limit: 100, cursor });
        for (const c of page.items) console.log(`${c.client_id}  ${c.client_type.padEnd(12)}  ${c.grant_types.join(',')}  ${c.client_name}`);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    });
  },
};

export const clientRotateSecret: Command = {
  name: 'client rotate-secret',
  summary: "replace a client's secret (the old one stops working); prints the new one once",
  usage: 'client rotate-secret <client_id>',
  async run({ positionals }) {
    const id = positionals[0];
    if (!id) throw new UsageError('which client? (usage: warden client rotate-secret <client_id>)');
    await withWarden(async (w) => {
      const { secret } = await w.clients.rotateSecret(id, cliContext).catch(asUsage);
      console.log(`client_secret  ${secret}\n(shown once: store it now)`);
    });
  },
};

export const clientDelete: Command = {
  name: 'client delete',
  summary: 'delete a client with its refresh tokens and consents',
  usage: 'client delete <client_id>',
  async run({ positionals }) {
    const id = positionals[0];
    if (!id) throw new UsageError('which client? (usage: warden client delete <client_id>)');
    await withWarden(async (w) => {
      await w.clients.delete(id, cliContext).catch(asUsage);
      console.log(`deleted ${id}`);
    });
  },
};
