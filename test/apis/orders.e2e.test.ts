import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { buildApp, type App } from '../../src/app/app.js';
import { MemoryStateStore } from '../../src/kernel/storage/state/memory.js';
import type { StateStore } from '../../src/kernel/storage/state/store.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import type { Clock } from '../../src/kernel/clock.js';
import { ManualClock } from '../../src/kernel/clock.js';
import { createTestApp, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { createJwtVerifier } from '../oauth/jwks-verifier.js';

const ORDERS = 'https://orders.example';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** PostgreSQL + Redis runs (WARDEN_TEST_REDIS_URL) give each instance its own Redis connection, as two servers have. */
async function stateStores(): Promise<[StateStore, StateStore]> {
  const url = process.env.WARDEN_TEST_REDIS_URL;
  if (!url) {
    const shared = new MemoryStateStore(new ManualClock(Date.now()));
    return [shared, shared];
  }
  const { RedisStateStore } = await import('../../src/kernel/storage/state/redis.js');
  const a = new RedisStateStore(url);
  const b = new RedisStateStore(url);
  await Promise.all([a.connected(3000), b.connected(3000)]);
  return [a, b];
}

/**
 * The other instance hears of a change through the state store (Redis pub/sub: one round trip, then it
 * reads the tables again), so its answer is awaited for a bounded while, never slept for.
 */
async function onceTrue<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const headerOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;

/** Issue 15 "Done when": an orders API protected by Warden, over real sockets, on two instances. */
describe('authorization for your own APIs: API resources, roles, resource indicators (RFC 8707)', () => {
  let t: TestApp;
  let second: { app: App; warden: Warden };
  let a: string;
  let b: string;
  let adminToken: string;
  let carolId: string;
  let shop: { client_id: string; client_secret: string };
  let svc: { client_id: string; client_secret: string };
  let third: { client_id: string; client_secret: string };
  const redirectUri = 'http://127.0.0.1:9/callback';

  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers });
  const api = async (base: string, method: string, path: string, body?: unknown, token = adminToken) =>
    json(await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null }));
  const token = async (base: string, params: Record<string, string>, client?: { client_id: string; client_secret: string }) =>
    json(
      await fetch(`${base}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(client ? { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` } : {}),
        },
        body: new URLSearchParams(params).toString(),
      }),
    );

  let states: StateStore[] = [];
  before(async () => {
    const [stateA, stateB] = await stateStores();
    states = [...new Set([stateA, stateB])];
    const [portA, portB] = [await freePort(), await freePort()];
    a = `http://127.0.0.1:${portA}`;
    b = `http://127.0.0.1:${portB}`;
    // One issuer for both instances (behind one address in production); each listens on its own port.
    t = await createTestApp({ env: { ISSUER: a }, state: stateA });
    await t.app.listen({ host: '127.0.0.1', port: portA });
    const wardenB = await createWarden(t.config, { database: t.warden.database, clock: t.clock as Clock, state: stateB, migrate: false });
    second = { app: await buildApp(t.config, { warden: wardenB }), warden: wardenB };
    await second.app.listen({ host: '127.0.0.1', port: portB });

    const root = await json(await fetch(`${a}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'root', email: 'root@example.com', password: STRONG_PASSWORD }) }));
    await t.warden.users.adminUpdate('test', root.body.id as string, { roles: ['admin', 'user'] }, {});
    adminToken = (await token(a, { grant_type: 'password', username: 'root', password: STRONG_PASSWORD })).body.access_token as string;

    const created = await api(a, 'POST', '/admin/apis', {
      identifier: ORDERS,
      name: 'Orders',
      scopes: [
        { name: 'orders:read', description: 'Read your orders' },
        { name: 'orders:write', description: 'Place and cancel orders' },
      ],
      access_token_ttl_seconds: 600,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const clerk = await api(a, 'POST', '/admin/roles', { name: 'clerk', description: 'Shop clerk', permissions: [{ api: ORDERS, scope: 'orders:read' }] });
    assert.equal(clerk.status, 201, JSON.stringify(clerk.body));
    const carol = await json(await fetch(`${a}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'carol', email: 'carol@example.com', password: STRONG_PASSWORD }) }));
    carolId = carol.body.id as string;
    const assigned = await api(a, 'PATCH', `/admin/users/${carolId}`, { roles: ['clerk'] });
    assert.deepEqual([assigned.status, assigned.body.roles], [200, ['clerk']]);

    const register = async (meta: Record<string, unknown>) => {
      const r = await api(a, 'POST', '/admin/clients', meta);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { client_id: string; client_secret: string };
    };
    shop = await register({
      client_name: 'Shop',
      first_party: true,
      grant_types: ['password', 'refresh_token'],
      response_types: [],
      resources: { [ORDERS]: ['orders:read', 'orders:write'] },
    });
    svc = await register({ client_name: 'Fulfilment', grant_types: ['client_credentials'], resources: { [ORDERS]: ['orders:write'] } });
    third = await register({
      client_name: 'Partner app',
      redirect_uris: [redirectUri],
      scope: 'openid offline_access account admin',
      resources: { [ORDERS]: ['orders:read'] },
    });
  });
  after(async () => {
    await second?.app.close();
    await second?.warden.close();
    await t?.close();
    // The instances were handed their state stores, so they leave them open: an open Redis connection
    // would keep this file's process alive for ever.
    await Promise.all(states.map((s) => s.close()));
  });

  let carolTokens: Record<string, unknown>;

  it("gives the clerk a token for the orders API with only what the role allows (aud, scope, lifetime, RFC 9068 claims)", async () => {
    const res = await token(a, { grant_type: 'password', username: 'carol', password: STRONG_PASSWORD, resource: ORDERS, scope: 'orders:read orders:write' }, shop);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, 'orders:read');
    assert.equal(res.body.expires_in, 600);
    const jwt = res.body.access_token as string;
    assert.equal(headerOf(jwt).typ, 'at+jwt');
    const c = claimsOf(jwt);
    assert.deepEqual(
      [c.aud, c.scope, c.client_id, c.sub, c.roles, (c.exp as number) - (c.iat as number), typeof c.jti],
      [ORDERS, 'orders:read', shop.client_id, carolId, ['clerk'], 600, 'string'],
    );
    // What a backend does: verify against the published keys with its own identifier as audience.
    assert.equal((await createJwtVerifier(`${a}/.well-known/jwks.json`, a)(jwt, ORDERS)).scope, 'orders:read');
    // Auth0's `audience` names the API as well.
    const alias = await token(a, { grant_type: 'password', username: 'carol', password: STRONG_PASSWORD, audience: ORDERS, scope: 'orders:read' }, shop);
    assert.equal(claimsOf(alias.body.access_token as string).aud, ORDERS);
    carolTokens = res.body;
  });

  it("gives the service client what it was granted at the API", async () => {
    const res = await token(a, { grant_type: 'client_credentials', resource: ORDERS }, svc);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, 'orders:write');
    const c = claimsOf(res.body.access_token as string);
    assert.deepEqual([c.aud, c.sub, c.scope, c.gty], [ORDERS, svc.client_id, 'orders:write', 'client_credentials']);
    const none = await token(a, { grant_type: 'client_credentials', resource: ORDERS, scope: 'orders:read' }, svc);
    assert.deepEqual([none.status, none.body], [400, { error: 'invalid_scope', error_description: 'none of the requested scopes can be granted: orders:read' }]);
  });

  it('refuses an unknown resource with invalid_target (RFC 8707 §2)', async () => {
    for (const [params, client] of [
      [{ grant_type: 'client_credentials', resource: 'https://nope.example' }, svc],
      [{ grant_type: 'password', username: 'carol', password: STRONG_PASSWORD, resource: 'https://nope.example' }, shop],
    ] as const) {
      const res = await token(a, params, client);
      assert.deepEqual([res.status, res.body], [400, { error: 'invalid_target', error_description: 'unknown resource: https://nope.example' }]);
    }
    const page = await fetch(`${a}/authorize?${new URLSearchParams({ response_type: 'code', client_id: third.client_id, redirect_uri: redirectUri, scope: 'openid', resource: 'https://nope.example', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' })}`, { redirect: 'manual' });
    assert.equal(new URL(page.headers.get('location')!).searchParams.get('error'), 'invalid_target');
  });

  it("is refused (401) by Warden's own API on either instance: a token is for the API in its aud", async () => {
    for (const base of [a, b]) {
      const me = await fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${carolTokens.access_token as string}` } });
      assert.equal(me.status, 401);
      assert.equal(me.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="the access token is missing, invalid, expired or revoked"');
    }
  });

  it('introspection answers aud and scope of a token for another API', async () => {
    const res = await json(
      await fetch(`${a}/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${svc.client_id}:${svc.client_secret}`).toString('base64')}` },
        body: new URLSearchParams({ token: carolTokens.access_token as string }).toString(),
      }),
    );
    assert.deepEqual([res.body.active, res.body.aud, res.body.scope, res.body.username], [true, ORDERS, 'orders:read', 'carol']);
    // RFC 7009 by the client it was issued to: revoked, so introspection says inactive.
    const form = (client: { client_id: string; client_secret: string }) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ token: carolTokens.access_token as string }).toString(),
    });
    assert.equal((await fetch(`${a}/revoke`, form(shop))).status, 200);
    assert.deepEqual((await json(await fetch(`${a}/introspect`, form(svc)))).body, { active: false });
  });

  it('never gives account or admin to a third-party client', async () => {
    for (const scope of ['openid account', 'openid admin']) {
      const page = await fetch(`${a}/authorize?${new URLSearchParams({ response_type: 'code', client_id: third.client_id, redirect_uri: redirectUri, scope, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' })}`, { redirect: 'manual' });
      const to = new URL(page.headers.get('location')!);
      assert.deepEqual([to.searchParams.get('error'), to.searchParams.get('error_description')], ['invalid_scope', `scope reserved to first-party clients: ${scope.split(' ')[1]}`]);
    }
  });

  it('refresh keeps the resource it was granted for: a subset only, never another API', async () => {
    const wider = await token(a, { grant_type: 'refresh_token', refresh_token: carolTokens.refresh_token as string, scope: 'orders:write' }, shop);
    // RFC 6749 §5.2: a scope beyond the original grant is invalid_scope.
    assert.deepEqual([wider.status, wider.body.error], [400, 'invalid_scope']);
    const other = await token(a, { grant_type: 'refresh_token', refresh_token: carolTokens.refresh_token as string, resource: 'warden' }, shop);
    assert.deepEqual([other.status, other.body], [400, { error: 'invalid_target', error_description: 'the refresh token was granted for another resource' }]);
    const refreshed = await token(b, { grant_type: 'refresh_token', refresh_token: carolTokens.refresh_token as string }, shop);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.deepEqual([refreshed.body.scope, claimsOf(refreshed.body.access_token as string).aud], ['orders:read', ORDERS]);
    carolTokens = refreshed.body;
  });

  it('openid-client passes resource through discovery, code + PKCE and refresh; the consent page names the API', async () => {
    const config = await oidc.discovery(new URL(a), third.client_id, undefined, oidc.ClientSecretBasic(third.client_secret), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid offline_access orders:read',
      resource: ORDERS,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 's1',
    });
    const jar = new Map<string, string>();
    const send = async (target: string | URL, form?: Record<string, string>) => {
      const res = await fetch(target, {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body: form ? new URLSearchParams(form).toString() : null,
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        jar.set(pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1));
      }
      return res;
    };
    const hidden = (html: string) => Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
    const login = await send(url);
    const consent = await send(`${a}/authorize`, { ...hidden(await login.text()), username: 'carol', password: STRONG_PASSWORD });
    const page = await consent.text();
    assert.match(page, /at <strong>Orders<\/strong> \(<code>https:\/\/orders\.example<\/code>\)/);
    assert.match(page, /<li><code>orders:read<\/code> — Read your orders<\/li>/);
    const done = await send(`${a}/authorize`, { ...hidden(page), decision: 'allow' });
    const callback = new URL(done.headers.get('location')!);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's1' }, { resource: ORDERS });
    assert.deepEqual([tokens.scope, claimsOf(tokens.access_token).aud], ['openid offline_access orders:read', ORDERS]);
    const again = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: ORDERS });
    assert.deepEqual([again.scope, claimsOf(again.access_token).aud], ['openid offline_access orders:read', ORDERS]);
  });

  it('removing the permission from the role stops the next token, on the other instance too', async () => {
    const changed = await api(a, 'PATCH', '/admin/roles/clerk', { permissions: [] });
    assert.deepEqual([changed.status, changed.body.permissions], [200, []]);
    const next = await onceTrue(
      () => token(b, { grant_type: 'password', username: 'carol', password: STRONG_PASSWORD, resource: ORDERS, scope: 'orders:read' }, shop),
      (r) => r.status === 400,
    );
    assert.deepEqual([next.status, next.body], [400, { error: 'invalid_scope', error_description: 'none of the requested scopes can be granted: orders:read' }]);
    const refreshed = await token(b, { grant_type: 'refresh_token', refresh_token: carolTokens.refresh_token as string }, shop);
    assert.deepEqual([refreshed.status, refreshed.body.scope], [200, '']);
  });

  it("a permission taken from a built-in role ends it on Warden's own API at once, on every instance", async () => {
    const bob = await json(await fetch(`${a}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bob', email: 'bob@example.com', password: STRONG_PASSWORD }) }));
    assert.equal(bob.status, 201);
    const bobToken = (await token(a, { grant_type: 'password', username: 'bob', password: STRONG_PASSWORD })).body.access_token as string;
    assert.equal((await api(b, 'GET', '/items', undefined, bobToken)).status, 200);
    const user = await api(a, 'GET', '/admin/roles/user');
    const kept = (user.body.permissions as { api: string; scope: string }[]).filter((p) => p.scope !== 'items:read');
    assert.equal((await api(a, 'PATCH', '/admin/roles/user', { permissions: kept })).status, 200);
    const refused = await onceTrue(() => api(b, 'GET', '/items', undefined, bobToken), (r) => r.status === 403);
    assert.deepEqual([refused.status, refused.body.code, refused.body.detail], [403, 'missing_permission', 'the user\'s roles no longer give the scope "items:read"']);
  });
});
