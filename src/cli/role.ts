import { ProblemError } from '../kernel/errors.js';
import type { PermissionIn } from '../features/apis/schemas.js';
import type { Warden } from '../app/warden.js';
import { asUsage } from './api.js';
import { required, UsageError, type Command } from './command.js';
import { cliContext, withWarden } from './context.js';

/**
 * `URI:scope`. Identifiers and scope names may both hold colons (`https://orders.example:orders:read`),
 * so the longest registered identifier that the value starts with decides where the scope begins.
 */
function permissionArg(w: Warden, v: string): PermissionIn {
  const api = w.catalog
    .apis()
    .filter((a) => v.startsWith(`${a.identifier}:`))
    .sort((a, b) => b.identifier.length - a.identifier.length)[0];
  if (!api) throw new UsageError(`--permission "${v}": no registered API identifier followed by :scope (warden api list)`);
  return { api: api.identifier, scope: v.slice(api.identifier.length + 1) };
}

const permissions = (w: Warden, values: Record<string, unknown>) => ((values.permission as string[] | undefined) ?? []).map((p) => permissionArg(w, p));

const createUsage = 'role create --name N [--description D] [--permission URI:scope ...]';
export const roleCreate: Command = {
  name: 'role create',
  summary: 'define a role and the API scopes it gives',
  usage: createUsage,
  options: { name: { type: 'string' }, description: { type: 'string' }, permission: { type: 'string', multiple: true } },
  async run({ values }) {
    const name = required(values, 'name', createUsage);
    await withWarden(async (w) => {
      const role = await asUsage(() => w.accessAdmin.createRole({ name, description: values.description as string | undefined, permissions: permissions(w, values) }, cliContext));
      console.log(`created role ${role.name} with ${role.permissions.map((p) => `${p.api}:${p.scope}`).join(' ') || 'no permissions'}`);
    });
  },
};

export const roleList: Command = {
  name: 'role list',
  summary: 'list roles and their permissions',
  usage: 'role list',
  async run() {
    await withWarden(async (w) => {
      for (const r of w.accessAdmin.listRoles({ limit: 100 }).items) {
        console.log(`${r.name}${r.built_in ? '  (built in)' : ''}  ${r.permissions.map((p) => `${p.api}:${p.scope}`).join(' ') || '(no permissions)'}`);
      }
    });
  },
};

const deleteUsage = 'role delete <name> [--force]';
export const roleDelete: Command = {
  name: 'role delete',
  summary: 'delete a role (--force: also when users hold it; they lose it)',
  usage: deleteUsage,
  options: { force: { type: 'boolean' } },
  async run({ values, positionals }) {
    const name = positionals[0];
    if (!name) throw new UsageError(`which role? (usage: warden ${deleteUsage})`);
    await withWarden(async (w) => {
      await asUsage(() =>
        w.accessAdmin.deleteRole(name, values.force === true, cliContext).catch((e: unknown) => {
          // The service speaks of the admin API's ?force=true; here it is the --force option.
          if (e instanceof ProblemError && e.code === 'role_in_use') throw new UsageError(e.detail.replace('delete with ?force=true', 'add --force'));
          throw e;
        }),
      );
      console.log(`deleted role ${name}`);
    });
  },
};

function change(kind: 'grant' | 'revoke'): Command {
  const usage = `role ${kind} <name> --permission URI:scope [...]`;
  return {
    name: `role ${kind}`,
    summary: kind === 'grant' ? 'give a role API scopes' : 'take API scopes from a role (the next token no longer carries them)',
    usage,
    options: { permission: { type: 'string', multiple: true } },
    async run({ values, positionals }) {
      const name = positionals[0];
      if (!name) throw new UsageError(`which role? (usage: warden ${usage})`);
      await withWarden(async (w) => {
        const list = permissions(w, values);
        if (!list.length) throw new UsageError(`--permission is required (usage: warden ${usage})`);
        for (const p of list) await asUsage(() => w.accessAdmin[kind](name, p, cliContext));
        console.log(`${name}: ${kind === 'grant' ? 'granted' : 'revoked'} ${list.map((p) => `${p.api}:${p.scope}`).join(' ')}`);
      });
    },
  };
}
export const roleGrant = change('grant');
export const roleRevoke = change('revoke');
