import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RouteAccessError } from '../../src/platform/route-access.js';
import { buildApp } from '../../src/app/app.js';
import { bearer, createAdmin, createTestApp, registerUser, tokensFor, type TestApp } from '../support/app.js';
import { basic, registerClient, tokenRequest } from '../oauth/support.js';

/**
 * Every route of the app as Fastify's router prints it (`printRoutes`): "METHOD /path" for each method.
 * Read from the router, not from the access hook, so a route that slipped past the hook is still walked.
 */
function routerRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, -]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== '-')) out.push(`${method} ${path}`);
  }
  return out.sort();
}

describe('route access declarations (issue 13 item 1)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('walks every registered route: each one declares who may call it', () => {
    const routes = routerRoutes(t.app.printRoutes({ commonPrefix: false }));
    assert.ok(routes.length > 80, `walked ${routes.length} routes`);
    assert.ok(routes.includes('GET /users/me') && routes.includes('POST /admin/keys/rotate') && routes.includes('GET /docs/static/index.html'));
    const declared = new Map(t.app.accessTable.map((e) => [`${e.method} ${e.url}`, e.access]));
    const keys = [...declared.keys()];
    const declaration = (r: string) =>
      declared.get(r) ??
      // Fastify's trailing-slash twin of a plugin's prefixed '/' route shares that route's options.
      (r.endsWith('/') ? declared.get(r.slice(0, -1)) : undefined) ??
      // printRoutes shows a wildcard under the longest common prefix of its siblings ('/docs/static/*' as '/docs/*').
      (r.endsWith('*') ? declared.get(keys.find((k) => k.endsWith('*') && k.startsWith(r.slice(0, -1)))!) : undefined);
    const undeclared = routes.filter((r) => !declaration(r)?.kind);
    assert.deepEqual(undeclared, []);
    // The admin and account API follow the contract (DESIGN.md "Who may call what").
    for (const [route, access] of declared) {
      const path = route.split(' ')[1]!;
      if (path.startsWith('/admin/') && !path.startsWith('/admin/console')) {
        assert.equal(access.kind, 'bearer', route);
        assert.ok(access.kind === 'bearer' && access.scopes.includes('admin') && (access.permission || access.role), route);
      }
      if (path.startsWith('/users/me')) assert.ok(access.kind === 'bearer' && access.scopes.includes('account'), route);
      if (path.startsWith('/admin/console/') && !/\/(login|login\/mfa|login\/passkey|console\.css)$/.test(path)) assert.equal(access.kind, 'cookie', route);
    }
  });

  it('refuses to build an app with a route that declares nothing, or breaks the admin/account rules', async () => {
    const app = await buildApp(t.config, { warden: t.warden });
    try {
      assert.throws(() => app.get('/undeclared', async () => 'open'), RouteAccessError);
      assert.throws(() => app.get('/undeclared', async () => 'open'), /GET \/undeclared: declares no access: add config\.access/);
      assert.throws(() => app.get('/admin/things', { config: { access: { kind: 'bearer', scopes: [], role: 'admin' } } }, async () => 'x'), /needs the admin scope/);
      assert.throws(() => app.get('/admin/things', { config: { access: { kind: 'bearer', scopes: ['admin'] } } }, async () => 'x'), /goes with a role or permission/);
      assert.throws(() => app.get('/users/me/things', { config: { access: { kind: 'bearer', scopes: [] } } }, async () => 'x'), /needs the account scope/);
      assert.throws(() => app.get('/things', { config: { access: { kind: 'bearer', scopes: ['nope' as 'openid'] } } }, async () => 'x'), /unknown scope "nope"/);
      assert.throws(() => app.get('/things', { config: { access: { kind: 'open' } as never } }, async () => 'x'), /unknown access kind "open"/);
      // Declared, it is added.
      app.get('/declared', { config: { access: { kind: 'public', reason: 'test' } } }, async () => 'ok');
      await app.ready();
      assert.equal((await app.inject({ url: '/declared' })).body, 'ok');
    } finally {
      await app.close();
    }
  });

  it('a representative route of each kind refuses the wrong caller', async () => {
    const root = await createAdmin(t, 'root');
    const alice = await registerUser(t.app, 'alice');
    await t.warden.users.adminUpdate('test', alice.id, { roles: ['guest'] }, {});
    const guest = (await tokensFor(t.app, 'alice')).access_token;
    const bob = await registerUser(t.app, 'bob');
    const bobToken = (await tokensFor(t.app, 'bob')).access_token;

    // public: anyone.
    assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200);

    // bearer + scopes: no token 401, a token without the scope 403 insufficient_scope.
    const anon = await t.app.inject({ url: '/users/me' });
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.headers['www-authenticate'], 'Bearer');
    const narrow = (await tokenRequest(t.app, { grant_type: 'password', username: 'bob', password: 'correct horse battery staple', scope: 'openid' })).json().access_token;
    const noScope = await t.app.inject({ url: '/users/me', headers: bearer(narrow) });
    assert.equal(noScope.statusCode, 403);
    assert.equal(noScope.json().code, 'insufficient_scope');

    // bearer + scopes + permission: a guest holds no items permission.
    const items = await t.app.inject({ method: 'POST', url: '/items', headers: bearer(guest), payload: { title: 'x' } });
    assert.equal(items.statusCode, 403);
    assert.deepEqual([items.json().code, items.json().detail], ['missing_permission', 'requires the permission "items:create"']);

    // bearer + admin scope + permission: a token that somehow carries `admin` still needs the role's permission.
    t.clock.advance(1);
    const forged = await t.warden.accessTokens.issue({ subject: bob.id, scope: 'admin', clientId: 'warden' });
    const noRole = await t.app.inject({ url: '/admin/users', headers: bearer(forged.token) });
    assert.equal(noRole.statusCode, 403);
    assert.deepEqual([noRole.json().code, noRole.json().detail], ['missing_permission', 'requires the permission "users:list"']);
    assert.equal((await t.app.inject({ url: '/admin/users', headers: bearer(bobToken) })).json().code, 'insufficient_scope');

    // A client acting for itself is no user.
    const svc = await registerClient(t, root.access_token, { client_name: 'svc', grant_types: ['client_credentials'], scope: 'items:read' });
    const cc = (await tokenRequest(t.app, { grant_type: 'client_credentials' }, basic(svc.client_id, svc.client_secret!))).json().access_token;
    const ccItems = await t.app.inject({ url: '/items', headers: bearer(cc) });
    assert.equal(ccItems.statusCode, 403);
    assert.equal(ccItems.json().code, 'user_required');

    // cookie: an admin's bearer token does not open a console page (its session cookie does).
    const console = await t.app.inject({ url: '/admin/console/users', headers: bearer(root.access_token) });
    assert.equal(console.statusCode, 303);
    assert.equal(console.headers.location, '/admin/console/login');

    // client: introspection wants client credentials, not a user's token.
    const intro = await tokenRequest(t.app, { token: root.access_token }, bearer(root.access_token), '/introspect');
    assert.equal(intro.statusCode, 401);
    assert.equal(intro.json().error, 'invalid_client');
  });

  it('derives the OpenAPI security of each route from its declaration', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    assert.deepEqual(doc.paths['/users/me'].get.security, [{ OAuth2PasswordBearer: ['account'] }, { bearer: [] }]);
    assert.deepEqual(doc.paths['/admin/users'].get.security, [{ OAuth2PasswordBearer: ['admin'] }, { bearer: [] }]);
    assert.deepEqual(doc.paths['/items/{id}'].patch.security, [{ OAuth2PasswordBearer: ['items:write'] }, { bearer: [] }]);
    assert.deepEqual(doc.paths['/secure-data'].get.security, [{ OAuth2PasswordBearer: [] }, { bearer: [] }]);
    assert.equal(doc.paths['/token'].post.security, undefined);
    assert.equal(doc.paths['/healthz'].get.security, undefined);
  });
});
