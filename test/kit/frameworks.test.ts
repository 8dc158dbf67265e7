import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { authenticate, createVerifier, requireRole, requireScope, type AuthRequest, type Middleware, type Verifier } from '../../packages/resource-server/src/index.js';
import { wardenAuth } from '../../packages/resource-server/src/fastify.js';
import { FakeIssuer, newKey, type SigningKey } from './fake-issuer.js';

const AUD = 'https://orders.example';

describe('Fastify plugin and Express-style middleware', () => {
  let idp: FakeIssuer;
  let key: SigningKey;
  let verifier: Verifier;
  let reader: string;
  let admin: string;
  let wrongAudience: string;
  before(async () => {
    idp = await new FakeIssuer().start();
    key = await newKey('k1');
    idp.keys.push(key);
    verifier = createVerifier({ issuer: idp.issuer, audience: AUD });
    const now = Math.floor(Date.now() / 1000);
    reader = await idp.token(key, now, { claims: { scope: 'orders:read', roles: ['clerk'] } });
    admin = await idp.token(key, now, { claims: { scope: 'orders:read orders:write', roles: ['admin'] } });
    wrongAudience = await idp.token(key, now, { aud: 'https://billing.example' });
  });
  after(() => idp.close());

  /** The same expectations for both: status, challenge, body. */
  async function expectations(call: (path: string, token?: string) => Promise<{ status: number; challenge: string | null; body: unknown }>) {
    const ok = await call('/orders', reader);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { sub: 'user-1', scopes: ['orders:read'] });
    const none = await call('/orders');
    assert.equal(none.status, 401);
    assert.equal(none.challenge, 'Bearer');
    const aud = await call('/orders', wrongAudience);
    assert.equal(aud.status, 401);
    assert.equal(aud.challenge, 'Bearer error="invalid_token", error_description="the access token is for another audience"');
    assert.deepEqual(aud.body, { error: 'invalid_token', error_description: 'the access token is for another audience' });
    const scope = await call('/orders/write', reader);
    assert.equal(scope.status, 403);
    assert.equal(scope.challenge, 'Bearer error="insufficient_scope", scope="orders:write"');
    assert.deepEqual(scope.body, { error: 'insufficient_scope', error_description: 'the token lacks the scope "orders:write"' });
    assert.equal((await call('/orders/write', admin)).status, 200);
    const role = await call('/admin', reader);
    assert.equal(role.status, 403);
    assert.equal(role.challenge, null);
    assert.deepEqual(role.body, { error: 'forbidden', error_description: 'this needs the role "admin"' });
    assert.equal((await call('/admin', admin)).status, 200);
  }

  describe('Fastify: app.register(wardenAuth), preHandler: app.requireScope / app.requireRole', () => {
    let app: FastifyInstance;
    before(async () => {
      app = Fastify();
      await app.register(wardenAuth, { verifier });
      app.get('/orders', { preHandler: app.requireScope('orders:read') }, async (request) => ({
        sub: request.principal!.sub,
        scopes: request.principal!.scopes,
      }));
      app.post('/orders/write', { preHandler: app.requireScope('orders:write') }, async () => ({ ok: true }));
      app.get('/admin', { preHandler: app.requireRole('admin') }, async () => ({ ok: true }));
      await app.ready();
    });
    after(() => app.close());

    it('answers 200 / 401 / 403 with RFC 6750 challenges', async () => {
      await expectations(async (path, token) => {
        const res = await app.inject({ method: path === '/orders/write' ? 'POST' : 'GET', url: path, headers: token ? { authorization: `Bearer ${token}` } : {} });
        return { status: res.statusCode, challenge: (res.headers['www-authenticate'] as string | undefined) ?? null, body: res.json() };
      });
    });

    it('registering with issuer and audience builds the verifier itself', async () => {
      const other = Fastify();
      await other.register(wardenAuth, { issuer: idp.issuer, audience: AUD });
      other.get('/x', { preHandler: other.authenticate }, async (request) => ({ sub: request.principal!.sub }));
      const res = await other.inject({ url: '/x', headers: { authorization: `Bearer ${reader}` } });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { sub: 'user-1' });
      await other.close();
    });
  });

  describe('Express-style: authenticate(), requireScope(), requireRole() on node:http', () => {
    let server: Server;
    let base: string;
    before(async () => {
      const routes: Record<string, Middleware[]> = {
        '/orders': [authenticate(verifier), requireScope('orders:read')],
        '/orders/write': [authenticate(verifier), requireScope('orders:write')],
        '/admin': [authenticate(verifier), requireRole('admin')],
        '/unguarded-scope': [requireScope('orders:read')],
      };
      // What Express does with a route's middleware list: each calls next() to go on.
      server = createServer((req: AuthRequest, res) => {
        const chain = routes[req.url ?? ''] ?? [];
        const run = (i: number) => (err?: unknown) => {
          if (err) return res.writeHead(500).end();
          if (i === chain.length) return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: req.principal!.sub, scopes: req.principal!.scopes }));
          chain[i]!(req, res, run(i + 1));
        };
        run(0)();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const call = async (path: string, token?: string) => {
      const res = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() };
    };

    it('answers 200 / 401 / 403 with RFC 6750 challenges', async () => {
      await expectations(call);
    });

    it('a guard placed without authenticate() refuses instead of letting the request through', async () => {
      const res = await call('/unguarded-scope', reader);
      assert.equal(res.status, 401);
    });
  });
});
