import type { ProviderKind } from '../features/federation/providers.js';
import { asUsage } from './api.js';
import { promptSecret, readStdin, required, UsageError, type Command } from './command.js';
import { cliContext, withWarden } from './context.js';

const addUsage = 'idp add --kind oidc|github --name N [--issuer URL] --client-id ID [--scopes "openid email profile"] [--client-secret-stdin]';
export const idpAdd: Command = {
  name: 'idp add',
  summary: 'add an upstream identity provider: generic OIDC (by discovery from --issuer) or the GitHub preset (secret from --client-secret-stdin or prompted)',
  usage: addUsage,
  options: {
    kind: { type: 'string' },
    name: { type: 'string' },
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    scopes: { type: 'string' },
    'client-secret-stdin': { type: 'boolean' },
  },
  async run({ values }) {
    const kind = required(values, 'kind', addUsage);
    if (kind !== 'oidc' && kind !== 'github') throw new UsageError(`--kind: oidc or github (usage: warden ${addUsage})`);
    const name = required(values, 'name', addUsage).trim();
    if (!name || name.length > 64) throw new UsageError('--name: 1 to 64 characters');
    const clientId = required(values, 'client-id', addUsage);
    // Never on the command line (shell history, ps): from stdin or typed at a prompt.
    const secret = values['client-secret-stdin'] ? await readStdin() : await promptSecret('client secret: ');
    if (!secret) throw new UsageError('the client secret is empty');
    await withWarden(async (w) => {
      const p = await asUsage(() =>
        w.identityProviders.create(
          { kind: kind as ProviderKind, name, issuer: values.issuer as string | undefined, client_id: clientId, client_secret: secret, scopes: values.scopes as string | undefined },
          cliContext,
        ),
      );
      console.log(`added ${p.kind} provider ${p.name} (${p.id}); its redirect URI: ${w.config.issuer}/federation/${p.id}/callback`);
    });
  },
};

export const idpList: Command = {
  name: 'idp list',
  summary: 'list upstream identity providers (client secrets are never shown)',
  usage: 'idp list',
  async run() {
    await withWarden(async (w) => {
      for (const p of await w.identityProviders.list()) {
        console.log(`${p.id}  ${p.kind}  ${p.name}  ${p.issuer ?? ''}  client ${p.clientId}  scopes: ${p.scopes}`);
      }
    });
  },
};

const deleteUsage = 'idp delete <id>';
export const idpDelete: Command = {
  name: 'idp delete',
  summary: 'delete an upstream identity provider and every link to it (the accounts stay)',
  usage: deleteUsage,
  async run({ positionals }) {
    const id = positionals[0];
    if (!id) throw new UsageError(`which provider? (usage: warden ${deleteUsage})`);
    await withWarden(async (w) => {
      await asUsage(() => w.identityProviders.delete(id, cliContext));
      console.log(`deleted provider ${id}`);
    });
  },
};
