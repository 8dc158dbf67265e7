import { join } from 'node:path';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { STRONG_PASSWORD } from '../support/app.js';
import { freePort, freshBackend, ROOT, runCli, startServerProcess, type ServerProcess } from '../support/process.js';
import { PYTHON, pythonSkip } from './python-env.js';

/**
 * A real Warden process, and each example as a real process (uvicorn for FastAPI), as a team runs them.
 * The examples are the orders API, registered in Warden as an API resource (issue 15) with its two
 * scopes; tokens are asked for it with `resource=` (RFC 8707). A third instance of each example
 * believes it is the billing API: an orders token must not open it.
 */
const AUDIENCE = 'https://orders.example';
const OTHER_API = 'https://billing.example';
const READ = 'orders:read';
const WRITE = 'orders:write';

interface Service {
  url: string;
  child: ChildProcess;
  log: () => string;
}

async function startExample(kind: 'fastify' | 'fastapi', env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const common = { ...process.env, RATE_LIMIT_PER_MINUTE: '100000', ...env };
  const child =
    kind === 'fastify'
      ? spawn(process.execPath, ['--import', 'tsx', '--import', './test/kit/kit-from-source.mjs', 'examples/orders-fastify/server.js'], {
          cwd: ROOT,
          env: { ...common, PORT: String(port), LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(PYTHON, ['-m', 'uvicorn', 'app:app', '--app-dir', 'examples/orders-fastapi', '--host', '127.0.0.1', '--port', String(port), '--no-access-log'], {
          cwd: ROOT,
          env: { ...common, PYTHONPATH: join(ROOT, 'python'), PYTHONDONTWRITEBYTECODE: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${kind} example exited: ${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child, log: () => out };
    } catch {
      // starting
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${kind} example did not start: ${out}`);
}

async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await gone;
}

const form = (p: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(p).toString(),
});

describe('the resource-server kit against a real Warden (examples as processes)', () => {
  let backend: Awaited<ReturnType<typeof freshBackend>>;
  let warden: ServerProcess;
  let adminToken: string;
  let introspectionClient: { client_id: string; client_secret: string };
  let appClient: { client_id: string; client_secret: string };

  async function json(path: string, init: RequestInit = {}) {
    const res = await fetch(`${warden.url}${path}`, init);
    const body = (await res.json()) as Record<string, string>;
    assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }
  // The shop app signs users in for the orders API (a first-party client with a grant there).
  const login = (username: string, extra: Record<string, string> = {}) =>
    json('/token', form({ grant_type: 'password', username, password: STRONG_PASSWORD, client_id: appClient.client_id, client_secret: appClient.client_secret, resource: AUDIENCE, ...extra }));
  const adminJson = (path: string, body: unknown, method = 'POST') =>
    json(path, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const adminPatch = (path: string, body: unknown) => adminJson(path, body, 'PATCH');

  before(async () => {
    backend = await freshBackend('kit', { migrated: true });
    const created = await runCli(['user', 'create', '--username', 'root', '--email', 'root@example.com', '--role', 'admin', '--password-stdin'], backend.env, `${STRONG_PASSWORD}\n`);
    assert.equal(created.code, 0, created.stderr);
    const port = await freePort();
    warden = await startServerProcess({ ...backend.env, PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, RATE_LIMIT_ENABLED: 'false', LOG_LEVEL: 'warn' });
    adminToken = (await json('/token', form({ grant_type: 'password', username: 'root', password: STRONG_PASSWORD }))).access_token!;
    // What a team does first: define its API, a role that may use it, and the clients that ask for it.
    await adminJson('/admin/apis', { identifier: AUDIENCE, name: 'Orders', scopes: [{ name: READ, description: 'See orders' }, { name: WRITE, description: 'Place and cancel orders' }] });
    await adminJson('/admin/apis', { identifier: OTHER_API, name: 'Billing', scopes: [{ name: 'billing:read', description: 'See invoices' }] });
    await adminJson('/admin/roles', { name: 'clerk', description: 'Takes orders', permissions: [READ, WRITE].map((scope) => ({ api: AUDIENCE, scope })) });
    const users = (await json('/admin/users?limit=10', { headers: { authorization: `Bearer ${adminToken}` } })) as unknown as { items: { id: string; username: string }[] };
    const rootId = users.items.find((u) => u.username === 'root')!.id;
    for (const username of ['alice', 'bob']) {
      const user = await json('/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, email: `${username}@example.com`, password: STRONG_PASSWORD }) });
      await adminPatch(`/admin/users/${user.id}`, { roles: ['clerk'] });
    }
    await adminPatch(`/admin/users/${rootId}`, { roles: ['admin', 'clerk'] });
    introspectionClient = (await adminJson('/admin/clients', { client_name: 'orders (introspection)', grant_types: ['client_credentials'], resources: { [AUDIENCE]: [READ] } })) as never;
    appClient = (await adminJson('/admin/clients', {
      client_name: 'shop',
      grant_types: ['password'],
      first_party: true,
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'openid',
      resources: { [AUDIENCE]: [READ, WRITE] },
    })) as never;
  });
  after(async () => {
    await warden?.stop();
    await backend?.dispose();
  });

  for (const kind of ['fastify', 'fastapi'] as const) {
    describe(`orders-${kind}`, { skip: kind === 'fastapi' ? pythonSkip : false }, () => {
      let jwtMode: Service;
      let introspectionMode: Service;
      let otherApi: Service;
      before(async () => {
        const env = { WARDEN_ISSUER: warden.url, ORDERS_AUDIENCE: AUDIENCE };
        [jwtMode, introspectionMode, otherApi] = await Promise.all([
          startExample(kind, env),
          startExample(kind, { ...env, INTROSPECTION_CLIENT_ID: introspectionClient.client_id, INTROSPECTION_CLIENT_SECRET: introspectionClient.client_secret }),
          startExample(kind, { ...env, ORDERS_AUDIENCE: OTHER_API }),
        ]);
      });
      after(() => Promise.all([jwtMode, introspectionMode, otherApi].map((s) => stop(s?.child))));

      const call = async (service: Service, method: string, path: string, token?: string, body?: unknown) => {
        const res = await fetch(`${service.url}${path}`, {
          method,
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        return { status: res.status, challenge: res.headers.get('www-authenticate'), body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
      };

      it('a valid token: 200; a clerk sees only their own orders, an admin all of them', async () => {
        const alice = (await login('alice')).access_token!;
        const bob = (await login('bob')).access_token!;
        const root = (await login('root')).access_token!;
        const created = await call(jwtMode, 'POST', '/orders', alice, { item: 'tea', quantity: 2 });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const id = created.body.id as number;
        assert.equal((await call(jwtMode, 'GET', `/orders/${id}`, alice)).status, 200);
        assert.equal((await call(jwtMode, 'GET', `/orders/${id}`, bob)).status, 404);
        assert.equal((await call(jwtMode, 'GET', `/orders/${id}`, root)).status, 200);
        const mine = await call(jwtMode, 'GET', '/orders', bob);
        assert.deepEqual([mine.status, mine.body], [200, []]);
      });

      it('a token for another API: 401 invalid_token (an orders token at billing, a Warden token at orders)', async () => {
        const ordersToken = (await login('alice')).access_token!;
        const wardenToken = (await json('/token', form({ grant_type: 'password', username: 'alice', password: STRONG_PASSWORD }))).access_token!;
        for (const [service, token] of [[otherApi, ordersToken], [jwtMode, wardenToken]] as const) {
          const res = await call(service, 'GET', '/orders', token);
          assert.equal(res.status, 401);
          assert.equal(res.challenge, 'Bearer error="invalid_token", error_description="the access token is for another audience"');
        }
        assert.equal((await call(jwtMode, 'GET', '/orders', ordersToken)).status, 200);
      });

      it('an id_token as bearer: 401 invalid_token (RFC 9068 typ)', async () => {
        const tokens = await login('alice', { scope: `openid ${READ}` });
        assert.ok(tokens.id_token);
        const res = await call(jwtMode, 'GET', '/orders', tokens.id_token);
        assert.equal(res.status, 401);
        assert.equal(res.challenge, 'Bearer error="invalid_token", error_description="not an access token (RFC 9068 typ at+jwt)"');
      });

      it('a missing scope: 403 insufficient_scope naming it; a missing role: 403', async () => {
        const readOnly = (await login('alice', { scope: READ })).access_token!;
        const res = await call(jwtMode, 'POST', '/orders', readOnly, { item: 'tea', quantity: 1 });
        assert.equal(res.status, 403);
        assert.equal(res.challenge, `Bearer error="insufficient_scope", scope="${WRITE}"`);
        assert.equal((await call(jwtMode, 'DELETE', '/orders/1', readOnly)).status, 403);
        assert.equal((await call(jwtMode, 'GET', '/orders')).challenge, 'Bearer');
      });

      it('after POST /admin/keys/rotate a token signed by the new key is accepted, without a restart', async () => {
        const before = (await login('alice')).access_token!;
        assert.equal((await call(jwtMode, 'GET', '/orders', before)).status, 200);
        const kid = (t: string) => (JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
        const rotated = await fetch(`${warden.url}/admin/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
        assert.equal(rotated.status, 201);
        const after = (await login('alice')).access_token!;
        assert.notEqual(kid(after), kid(before));
        assert.equal((await call(jwtMode, 'GET', '/orders', after)).status, 200);
        assert.equal((await call(jwtMode, 'GET', '/orders', before)).status, 200, 'the old key verifies until its tokens expire');
      });

      it('introspection mode refuses a revoked token at once; JWT mode accepts it until it expires', async () => {
        const token = (await login('alice')).access_token!;
        assert.equal((await call(introspectionMode, 'GET', '/orders', token)).status, 200);
        // The app that holds the token revokes it (RFC 7009: a client revokes its own tokens).
        assert.equal((await fetch(`${warden.url}/revoke`, form({ token, client_id: appClient.client_id, client_secret: appClient.client_secret }))).status, 200);
        const res = await call(introspectionMode, 'GET', '/orders', token);
        assert.equal(res.status, 401);
        assert.equal(res.challenge, 'Bearer error="invalid_token", error_description="the access token is no longer active"');
        assert.equal((await call(jwtMode, 'GET', '/orders', token)).status, 200);
      });
    });
  }
});
