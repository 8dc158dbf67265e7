import { ProblemError } from '../kernel/errors.js';
import type { Warden } from '../app/warden.js';
import { required, UsageError, type Command } from './command.js';
import { cliContext, withWarden } from './context.js';

/** A refusal of the service (422, 409, 404) is a bad invocation: one line, exit code 2. */
export async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ProblemError) throw new UsageError(e.errors?.map((x) => `${x.field} ${x.message}`).join('; ') || e.detail);
    throw e;
  }
}

function scopeArg(v: string): { name: string; description: string } {
  const eq = v.indexOf('=');
  return eq < 0 ? { name: v, description: '' } : { name: v.slice(0, eq), description: v.slice(eq + 1) };
}

function apiOf(w: Warden, identifier: string | undefined, usage: string) {
  if (!identifier) throw new UsageError(`which API? (usage: warden ${usage})`);
  const api = w.catalog.byIdentifier(identifier);
  if (!api) throw new UsageError(`no API "${identifier}" (warden api list)`);
  return api;
}

const createUsage = 'api create --identifier URI --name N [--scope name=description ...] [--ttl SECONDS] [--no-offline-access]';
export const apiCreate: Command = {
  name: 'api create',
  summary: 'register an API resource (its identifier becomes the tokens\' aud)',
  usage: createUsage,
  options: {
    identifier: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string', multiple: true },
    ttl: { type: 'string' },
    'no-offline-access': { type: 'boolean' },
  },
  async run({ values }) {
    const identifier = required(values, 'identifier', createUsage);
    const name = required(values, 'name', createUsage);
    const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 60 || ttl > 86400)) throw new UsageError('--ttl: whole seconds from 60 to 86400');
    const scopes = ((values.scope as string[] | undefined) ?? []).map(scopeArg);
    await withWarden(async (w) => {
      const api = await asUsage(() =>
        w.accessAdmin.createApi({ identifier, name, scopes, access_token_ttl_seconds: ttl ?? null, allow_offline_access: !values['no-offline-access'] }, cliContext),
      );
      console.log(`created API ${api.identifier} (${api.id}) with scopes ${api.scopes.map((s) => s.name).join(' ') || '(none)'}`);
    });
  },
};

export const apiList: Command = {
  name: 'api list',
  summary: 'list API resources and their scopes',
  usage: 'api list',
  async run() {
    await withWarden(async (w) => {
      for (const a of w.catalog.apis()) {
        const ttl = a.accessTokenTtlSeconds ?? w.config.accessTokenTtlSeconds;
        console.log(`${a.identifier}  ${a.name}${a.builtIn ? '  (built in)' : ''}  ttl ${ttl}s  scopes: ${a.scopes.map((s) => s.name).join(' ') || '(none)'}`);
      }
    });
  },
};

const deleteUsage = 'api delete <identifier>';
export const apiDelete: Command = {
  name: 'api delete',
  summary: 'delete an API, its scopes and every permission on them',
  usage: deleteUsage,
  async run({ positionals }) {
    await withWarden(async (w) => {
      const api = apiOf(w, positionals[0], deleteUsage);
      await asUsage(() => w.accessAdmin.deleteApi(api.id, cliContext));
      console.log(`deleted API ${api.identifier}`);
    });
  },
};

const scopeAddUsage = 'api scope add <identifier> --scope name=description [...]';
export const apiScopeAdd: Command = {
  name: 'api scope add',
  summary: 'add scopes to an API',
  usage: scopeAddUsage,
  options: { scope: { type: 'string', multiple: true } },
  async run({ values, positionals }) {
    const scopes = ((values.scope as string[] | undefined) ?? []).map(scopeArg);
    if (!scopes.length) throw new UsageError(`--scope is required (usage: warden ${scopeAddUsage})`);
    await withWarden(async (w) => {
      const api = apiOf(w, positionals[0], scopeAddUsage);
      for (const s of scopes) await asUsage(() => w.accessAdmin.addScope(api.id, s, cliContext));
      console.log(`${api.identifier}: added ${scopes.map((s) => s.name).join(' ')}`);
    });
  },
};

const scopeRemoveUsage = 'api scope remove <identifier> <scope>';
export const apiScopeRemove: Command = {
  name: 'api scope remove',
  summary: 'remove a scope from an API (and from every role that had it)',
  usage: scopeRemoveUsage,
  async run({ positionals }) {
    const scope = positionals[1];
    if (!scope) throw new UsageError(`which scope? (usage: warden ${scopeRemoveUsage})`);
    await withWarden(async (w) => {
      const api = apiOf(w, positionals[0], scopeRemoveUsage);
      await asUsage(() => w.accessAdmin.removeScope(api.id, scope, cliContext));
      console.log(`${api.identifier}: removed ${scope}`);
    });
  },
};
