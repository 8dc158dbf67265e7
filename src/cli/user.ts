import { readFileSync } from 'node:fs';
import { Value } from 'typebox/value';
import { Type, type Static } from 'typebox';
import { ProblemError } from '../kernel/errors.js';
import { deleteUser, findUserByLogin, insertUser, type UserRecord } from '../features/users/repository.js';
import { Email, FullName, Username } from '../features/users/schemas.js';
import { isUniqueViolation } from '../kernel/storage/errors.js';
import { promptNewPassword, promptSecret, readStdin, required, UsageError, type Command } from './command.js';
import { cliContext, withWarden } from './context.js';

function rolesArg(v: unknown, usage: string): string[] {
  const list = String(v ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (!list.length) throw new UsageError(`--role is required (usage: warden ${usage})`);
  return list;
}

/** Built-in and defined roles alike (`warden role create`); the list says which exist. */
function checkRoles(w: Parameters<Parameters<typeof withWarden>[0]>[0], roles: readonly string[]) {
  const bad = w.accessAdmin.unknownRoles(roles)[0];
  if (bad) throw new UsageError(`unknown role "${bad}" (roles: ${w.catalog.roles().map((r) => r.name).join(', ')})`);
}

async function findOrFail(w: Parameters<Parameters<typeof withWarden>[0]>[0], login: string): Promise<UserRecord> {
  const u = await findUserByLogin(w.db, login);
  if (!u) throw new UsageError(`no user "${login}"`);
  return u;
}

const createUsage = 'user create --username U --email E [--full-name N] [--role admin[,user]] [--password-stdin]';
export const userCreate: Command = {
  name: 'user create',
  summary: 'create a user (password from --password-stdin or prompted)',
  usage: createUsage,
  options: {
    username: { type: 'string' },
    email: { type: 'string' },
    'full-name': { type: 'string' },
    role: { type: 'string', multiple: true },
    'password-stdin': { type: 'boolean' },
  },
  async run({ values }) {
    const username = required(values, 'username', createUsage);
    const email = required(values, 'email', createUsage);
    if (!Value.Check(Username, username)) throw new UsageError('--username: 3-32 letters, digits, _ . -');
    if (!Value.Check(Email, email)) throw new UsageError('--email is not an e-mail address');
    const roles = values.role ? rolesArg((values.role as string[]).join(','), createUsage) : ['user'];
    const password = values['password-stdin'] ? await readStdin() : await promptNewPassword();
    await withWarden(async (w) => {
      checkRoles(w, roles);
      try {
        const u = await w.users.create({ username, email, password, fullName: values['full-name'] as string | undefined, roles, emailVerified: true }, cliContext, 'user.created');
        console.log(`created user ${u.username} (${u.id}) with roles ${u.roles.join(',')}`);
      } catch (e) {
        if (e instanceof ProblemError) throw new UsageError(e.errors?.map((x) => `${x.field} ${x.message}`).join('; ') || e.detail);
        throw e;
      }
    });
  },
};

const setRolesUsage = 'user set-roles <username|email> --role admin,user';
export const userSetRoles: Command = {
  name: 'user set-roles',
  summary: "replace a user's roles",
  usage: setRolesUsage,
  options: { role: { type: 'string', multiple: true } },
  async run({ values, positionals }) {
    const login = positionals[0];
    if (!login) throw new UsageError(`which user? (usage: warden ${setRolesUsage})`);
    const roles = rolesArg(((values.role as string[] | undefined) ?? []).join(','), setRolesUsage);
    await withWarden(async (w) => {
      checkRoles(w, roles);
      const u = await findOrFail(w, login);
      const after = await w.users.adminUpdate('cli', u.id, { roles }, cliContext);
      console.log(`${after.username}: roles ${after.roles.join(',')}`);
    });
  },
};

function toggle(disabled: boolean): Command {
  const usage = `user ${disabled ? 'disable' : 'enable'} <username|email>`;
  return {
    name: `user ${disabled ? 'disable' : 'enable'}`,
    summary: disabled ? 'disable a user and end their sessions' : 'enable a user',
    usage,
    async run({ positionals }) {
      const login = positionals[0];
      if (!login) throw new UsageError(`which user? (usage: warden ${usage})`);
      await withWarden(async (w) => {
        const u = await findOrFail(w, login);
        await w.users.adminUpdate('cli', u.id, { disabled }, cliContext);
        console.log(`${u.username} ${disabled ? 'disabled' : 'enabled'}`);
      });
    },
  };
}
export const userDisable = toggle(true);
export const userEnable = toggle(false);

const ImportLine = Type.Object(
  {
    username: Username,
    email: Email,
    full_name: Type.Optional(Type.Union([FullName, Type.Null()])),
    // bcrypt costs 04-13 (BCRYPT_MAX_COST): every failed login is padded to the highest one stored.
    hashed_password: Type.String({ pattern: '^(\\$2[aby]\\$(0[4-9]|1[0-3])\\$[./A-Za-z0-9]{53}|\\$argon2id\\$.+)$' }),
    disabled: Type.Optional(Type.Boolean()),
    roles: Type.Optional(Type.Array(Type.String())),
    email_verified: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const importUsage = 'user import --file users.jsonl';
export const userImport: Command = {
  name: 'user import',
  summary: 'import users with their bcrypt (passlib) or argon2id hashes, all or nothing',
  usage: importUsage,
  options: { file: { type: 'string' } },
  async run({ values }) {
    const file = required(values, 'file', importUsage);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new UsageError(`cannot read ${file}`);
    }
    const rows: Array<{ line: number; v: Static<typeof ImportLine> }> = [];
    const seen = new Map<string, number>();
    text.split('\n').forEach((raw, i) => {
      const line = i + 1;
      if (!raw.trim()) return;
      let obj: unknown;
      try {
        obj = JSON.parse(raw);
      } catch {
        throw new UsageError(`line ${line}: not valid JSON`);
      }
      if (!Value.Check(ImportLine, obj)) {
        const err = [...Value.Errors(ImportLine, obj)][0];
        const field = err?.instancePath.replace(/^\//, '') || 'line';
        throw new UsageError(`line ${line}: ${field} ${err?.message ?? 'is invalid'}`);
      }
      const v = obj as Static<typeof ImportLine>;
      for (const key of [`u:${v.username.toLowerCase()}`, `e:${v.email.toLowerCase()}`]) {
        const prev = seen.get(key);
        if (prev) throw new UsageError(`line ${line}: ${key.startsWith('u') ? 'username' : 'email'} repeats line ${prev}`);
        seen.set(key, line);
      }
      rows.push({ line, v });
    });
    if (!rows.length) throw new UsageError(`${file} has no users`);
    await withWarden(async (w) => {
      // Built-in and defined roles alike (`warden role create`), checked before any user is written.
      for (const { line, v } of rows) {
        const bad = w.accessAdmin.unknownRoles(v.roles ?? [])[0];
        if (bad) throw new UsageError(`line ${line}: unknown role "${bad}" (roles: ${w.catalog.roles().map((r) => r.name).join(', ')})`);
      }
      let current = 0;
      try {
        await w.db.transaction(async (tx) => {
          for (const { line, v } of rows) {
            current = line;
            const u = await insertUser(tx, {
              username: v.username,
              email: v.email,
              fullName: v.full_name,
              passwordHash: v.hashed_password,
              disabled: v.disabled ?? false,
              emailVerified: v.email_verified ?? false,
              roles: v.roles?.length ? v.roles : ['user'],
              now: new Date(w.clock.now()),
            });
            await w.audit.record(tx, { type: 'user.imported', subjectId: u.id, details: { username: u.username } }, cliContext);
          }
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new UsageError(`line ${current}: username or email already exists; nothing was imported`);
        throw e;
      }
      console.log(`imported ${rows.length} users`);
    });
  },
};

const listUsage = 'user list [--search TEXT] [--limit N]';
export const userList: Command = {
  name: 'user list',
  summary: 'list users, newest first (username, e-mail, roles, state)',
  usage: listUsage,
  options: { search: { type: 'string' }, limit: { type: 'string' } },
  async run({ values }) {
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be a whole number from 1 to 1000 (usage: warden ${listUsage})`);
    await withWarden(async (w) => {
      const { items, nextCursor } = await w.users.list({ q: values.search as string | undefined, limit });
      const rows = items.map((u) => [u.username, u.email, u.roles.join(','), u.disabled ? 'disabled' : 'active', u.createdAt.toISOString().slice(0, 10)]);
      const head = ['USERNAME', 'EMAIL', 'ROLES', 'STATE', 'CREATED'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) console.log(r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  '));
      if (nextCursor) console.log(`… more users: raise --limit or narrow with --search`);
    });
  },
};

const setPasswordUsage = 'user set-password <username|email> [--password-stdin]';
export const userSetPassword: Command = {
  name: 'user set-password',
  summary: "set a user's password (prompted twice, or from --password-stdin); ends their sessions",
  usage: setPasswordUsage,
  options: { 'password-stdin': { type: 'boolean' } },
  async run({ values, positionals }) {
    const login = positionals[0];
    if (!login) throw new UsageError(`which user? (usage: warden ${setPasswordUsage})`);
    const password = values['password-stdin'] ? await readStdin() : await promptNewPassword();
    await withWarden(async (w) => {
      const u = await findOrFail(w, login);
      try {
        await w.db.transaction(async (tx) => {
          await w.users.setPassword(tx, u, password);
          await w.audit.record(tx, { type: 'password.reset_by_admin', subjectId: u.id, details: { via: 'cli' } }, cliContext);
        });
      } catch (e) {
        if (e instanceof ProblemError) throw new UsageError(e.errors?.map((x) => `password ${x.message}`).join('; ') || e.detail);
        throw e;
      }
      // setPassword ended their refresh tokens and older access tokens; every instance drops its cached copy.
      await w.userCache.invalidate(u.id);
      console.log(`${u.username}: password set; their sessions were ended`);
    });
  },
};

const deleteUsage = 'user delete <username|email> --yes';
export const userDelete: Command = {
  name: 'user delete',
  summary: 'delete a user and what they own (items, tokens, sessions); --yes confirms',
  usage: deleteUsage,
  options: { yes: { type: 'boolean' } },
  async run({ values, positionals }) {
    const login = positionals[0];
    if (!login) throw new UsageError(`which user? (usage: warden ${deleteUsage})`);
    if (!values.yes) {
      if (!process.stdin.isTTY) throw new UsageError(`deleting cannot be undone: add --yes to confirm (usage: warden ${deleteUsage})`);
      const typed = await promptSecret(`Delete ${login} for good? Type the name again to confirm: `);
      if (typed !== login) throw new UsageError('not confirmed; nothing was deleted');
    }
    await withWarden(async (w) => {
      const u = await findOrFail(w, login);
      await w.db.transaction(async (tx) => {
        await deleteUser(tx, u.id);
        await w.audit.record(tx, { type: 'user.deleted', subjectId: u.id, details: { username: u.username } }, cliContext);
      });
      await w.userCache.invalidate(u.id);
      console.log(`${u.username} deleted`);
    });
  },
};
