import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { buildApp, type App } from '../../src/app/app.js';
import { MIGRATIONS_FOLDER, openDatabase } from '../../src/kernel/storage/database.js';
import { hashToken } from '../../src/kernel/secrets.js';
import { Algorithm, hash as argon2id } from '@node-rs/argon2';
import { createWarden, type Warden } from '../../src/app/warden.js';
import { STRONG_PASSWORD, testConfig } from '../support/app.js';

/**
 * Issue 15 "Done when": the migration that made APIs and roles data (0004) keeps an existing deployment's
 * users, roles, clients and tokens working. A database is built as a Warden before 0004 left it (its
 * migrations only, rows written as that version wrote them), then today's Warden opens and migrates it.
 */
describe('upgrading a deployment from before API resources (migration 0004)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-upgrade-'));
  const dataDir = join(dir, 'data');
  const refreshToken = `wrt_${randomUUID()}`;
  const clientSecret = `wcs_${randomUUID()}`;
  const ids = { alice: randomUUID(), root: randomUUID(), sid: randomUUID() };
  let app: App;
  let warden: Warden;

  before(async () => {
    // The migrations as they were before 0004: the same files, the journal cut after 0003.
    const old = join(dir, 'migrations');
    cpSync(MIGRATIONS_FOLDER, old, { recursive: true });
    const journal = JSON.parse(readFileSync(join(old, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    const cut = journal.entries.findIndex((e) => e.tag.startsWith('0004'));
    assert.ok(cut > 0, 'migration 0004 is in the journal');
    writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, cut) }));
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const pg = new PGlite({ dataDir: join(dataDir, 'pgdata') }); // where Warden keeps it inside DATA_DIR
    await migrate(drizzle(pg), { migrationsFolder: old });
    const hash = await argon2id(STRONG_PASSWORD, { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    await pg.query(`insert into users (id, username, email, password_hash, tokens_valid_after) values ($1, 'alice', 'alice@example.com', $3, now() - interval '1 hour'), ($2, 'root', 'root@example.com', $3, now() - interval '1 hour')`, [ids.alice, ids.root, hash]);
    await pg.query(`insert into user_roles (user_id, role) values ($1, 'user'), ($2, 'admin'), ($2, 'user')`, [ids.alice, ids.root]);
    // A confidential service client registered with Warden's own scopes, as clients were before per-API grants.
    await pg.query(
      `insert into oauth_clients (client_id, client_name, type, secret_hash, grant_types, token_endpoint_auth_method, scope)
       values ('wc-legacy', 'Legacy service', 'confidential', $1, '["client_credentials"]', 'client_secret_basic', 'items:read')`,
      [createHash('sha256').update(clientSecret).digest('base64url')],
    );
    // Alice's live sign-in: a session and its refresh token for the built-in API (no `resource` then).
    await pg.query(`insert into sessions (sid, user_id, client_ids, auth_time, amr, last_used_at) values ($1, $2, '[]', now(), '["pwd"]', now())`, [ids.sid, ids.alice]);
    await pg.query(
      `insert into refresh_tokens (token_hash, family_id, session_id, user_id, client_id, scope, auth_time, expires_at)
       values ($1, $2, $2, $3, null, 'offline_access account items:read items:write', now(), now() + interval '30 days')`,
      [hashToken(refreshToken), ids.sid, ids.alice],
    );
    await pg.close();

    const config = testConfig({ DATA_DIR: dataDir, JWT_AUDIENCE: 'warden' });
    const database = await openDatabase({ dataDir });
    warden = await createWarden(config, { database, migrate: true });
    app = await buildApp(config, { warden });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await warden?.close();
    await warden?.database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const token = async (params: Record<string, string>, basic?: string) => {
    const res = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(basic ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {}) },
      payload: new URLSearchParams(params).toString(),
    });
    return { status: res.statusCode, body: res.json() as Record<string, string> };
  };
  const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

  it("a refresh token issued before keeps working, for Warden's own API, with its whole grant", async () => {
    const res = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, 'offline_access account items:read items:write');
    const c = claims(res.body.access_token!);
    assert.deepEqual([c.aud, c.sub, c.sid], ['warden', ids.alice, ids.sid]);
    const me = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${res.body.access_token}` } });
    assert.equal(me.statusCode, 200);
  });

  it('users keep their roles, which now exist as data with the permissions they had', async () => {
    const login = await token({ grant_type: 'password', username: 'alice', password: STRONG_PASSWORD, scope: 'items:read items:write' });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.scope, 'items:read items:write');
    const admin = await token({ grant_type: 'password', username: 'root', password: STRONG_PASSWORD, scope: 'admin' });
    assert.equal(admin.status, 200, JSON.stringify(admin.body));
    const roles = await app.inject({ method: 'GET', url: '/admin/roles', headers: { authorization: `Bearer ${admin.body.access_token}` } });
    assert.equal(roles.statusCode, 200);
    const byName = Object.fromEntries((roles.json() as { items: { name: string; built_in: boolean }[] }).items.map((r) => [r.name, r.built_in]));
    assert.deepEqual(byName, { admin: true, guest: true, user: true });
  });

  it("a client registered before keeps its grant at Warden's own API", async () => {
    const res = await token({ grant_type: 'client_credentials' }, `wc-legacy:${clientSecret}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, 'items:read');
    assert.equal(claims(res.body.access_token!).aud, 'warden');
    const wrong = await token({ grant_type: 'client_credentials' }, 'wc-legacy:nope');
    assert.equal(wrong.status, 401);
  });
});
