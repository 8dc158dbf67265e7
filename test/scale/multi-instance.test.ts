import { ROOT } from '../support/process.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { withDatabase } from '../support/template.js';
import { requireService, STRONG_PASSWORD } from '../support/app.js';
import { wardenCommand } from '../support/process.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';

/**
 * Two real Warden processes on PostgreSQL + Redis behind a round-robin proxy, as they run in production.
 * Redis is a private redis-server started here (the machine's shared one must not be killed): the test
 * kills it mid-way and starts it again.
 */
const PG_URL = process.env.WARDEN_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

async function pgReachable() {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}
const redisServerBinary = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
const available = await pgReachable();
const skip = requireService(available && redisServerBinary, `PostgreSQL at ${PG_URL} and the redis-server binary`).skip;

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A private Redis without persistence: killing it loses everything, as a crashed cache would. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createNetServer();
      // Port taken → redis is listening.
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (ok) return child;
    await sleep(25);
  }
  throw new Error('redis-server did not start');
}

/** The load balancer: round robin over the instances, X-Forwarded-For appended as nginx does. */
function roundRobinProxy(ports: () => number[]): Server {
  let next = 0;
  return createServer((req, res) => {
    const targets = ports();
    const port = targets[next++ % targets.length]!;
    const xff = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const upstream = httpRequest(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': xff, 'x-upstream-port': String(port) } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, { ...up.headers, 'x-upstream-port': String(port) });
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
}

interface Instance {
  port: number;
  base: string;
  child: ChildProcess;
  log: () => string;
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, wardenCommand('serve'), {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log = (log + d).slice(-200_000)));
  child.stderr!.on('data', (d) => (log = (log + d).slice(-200_000)));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`instance exited: ${log}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.status === 200) return { port, base, child, log: () => log };
    } catch {
      // starting
    }
    await sleep(50);
  }
  throw new Error(`instance did not start: ${log}`);
}

async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(base: string, method: string, path: string, opts: { json?: unknown; form?: Record<string, string>; token?: string; ip?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.ip) headers['x-forwarded-for'] = opts.ip;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const login = (base: string, username: string, password = STRONG_PASSWORD, ip = '192.0.2.10') =>
  call(base, 'POST', '/token', { form: { grant_type: 'password', username, password }, ip });

/** Poll until check() is true (or fail after ms). */
async function eventually(what: string, ms: number, check: () => Promise<boolean>) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) assert.fail(`${what} did not happen within ${ms} ms`);
    await sleep(25);
  }
}

describe('several instances on PostgreSQL + Redis behind a load balancer', { skip, timeout: 180_000 }, () => {
  let redisPort: number;
  let redis: ChildProcess | undefined;
  let a: Instance;
  let b: Instance;
  let proxy: Server;
  let lb: string;
  let dbName: string;
  let adminToken: string;
  const admin = new pg.Client({ connectionString: PG_URL });

  before(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    await admin.connect();
    dbName = `warden_t_scale_${process.pid}_${Date.now()}`;
    await admin.query(`create database ${dbName}`);
    proxy = roundRobinProxy(() => [a.port, b.port]);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    lb = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const env = {
      NODE_ENV: 'production',
      ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
      DATABASE_URL: withDatabase(PG_URL, dbName),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ISSUER: lb,
      TRUSTED_PROXIES: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_REGISTER: '3',
      RATE_LIMIT_TOKEN: '1000',
      RATE_LIMIT_GLOBAL: '100000',
      LOCKOUT_THRESHOLD: '2',
      LOCKOUT_MINUTES: '1',
      USER_CACHE_SECONDS: '60',
    };
    // Both start (and migrate) at once on the fresh database: the advisory lock serialises them.
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);

    const root = await call(lb, 'POST', '/users', { json: { username: 'root', email: 'root@example.com', password: STRONG_PASSWORD }, ip: '192.0.2.1' });
    assert.equal(root.status, 201, JSON.stringify(root.body));
    // What `warden user set-roles root admin,user` does.
    const db = new pg.Client({ connectionString: withDatabase(PG_URL, dbName) });
    await db.connect();
    await db.query(`insert into user_roles (user_id, role) values ($1, 'admin')`, [root.body.id]);
    await db.end();
    const t = await login(lb, 'root');
    assert.equal(t.status, 200, JSON.stringify(t.body));
    adminToken = t.body.access_token as string;
  });

  after(async () => {
    await Promise.all([stop(a?.child), stop(b?.child)]);
    await stop(redis);
    await new Promise((resolve) => proxy?.close(resolve));
    if (dbName) await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end().catch(() => {});
  });

  async function register(username: string, ip: string) {
    const r = await call(lb, 'POST', '/users', { json: { username, email: `${username}@example.com`, password: STRONG_PASSWORD }, ip });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string };
  }

  it('shares one registration rate limit between the instances (per-instance counters would allow twice as many)', async () => {
    const ip = '198.51.100.7';
    const statuses: number[] = [];
    const served = new Set<string | null>();
    for (let i = 0; i < 4; i++) {
      const r = await call(lb, 'POST', '/users', { json: { username: `rl${i}`, email: `rl${i}@example.com`, password: STRONG_PASSWORD }, ip });
      statuses.push(r.status);
      served.add(r.headers.get('x-upstream-port'));
    }
    assert.equal(served.size, 2, 'both instances took requests');
    assert.deepEqual(statuses, [201, 201, 201, 429]);
  });

  it('shares the per-account lockout: failures through one instance lock the account on the other', async () => {
    await register('victim', '192.0.2.20');
    assert.equal((await login(b.base, 'victim')).status, 200, 'the right password works before the attack');
    // Every guess goes to instance A; the second failure locks (LOCKOUT_THRESHOLD=2), after the pause the first one imposes.
    assert.equal((await login(a.base, 'victim', 'wrong password one')).status, 400);
    await sleep(1100);
    assert.equal((await login(a.base, 'victim', 'wrong password two')).status, 400);
    const onB = await login(b.base, 'victim');
    assert.equal(onB.status, 400, 'instance B refuses the right password while the account is locked');
    assert.equal(onB.body.error, 'invalid_grant');
  });

  it('honours a logout on one instance on the other within a second (pub/sub)', async () => {
    const u = await register('leaver', '192.0.2.30');
    const t = await login(a.base, 'leaver');
    const token = t.body.access_token as string;
    assert.equal((await call(b.base, 'GET', '/users/me', { token })).status, 200, 'B has verified and cached the token and user');
    const out = await call(a.base, 'POST', `/admin/users/${u.id}/logout`, { token: adminToken });
    assert.equal(out.status, 204, JSON.stringify(out.body));
    await eventually('B refusing the logged-out token', 1000, async () => (await call(b.base, 'GET', '/users/me', { token })).status === 401);
  });

  it('refuses on one instance an access token revoked through the other (RFC 7009)', async () => {
    await register('revoked', '192.0.2.40');
    const token = (await login(b.base, 'revoked')).body.access_token as string;
    assert.equal((await call(b.base, 'GET', '/users/me', { token })).status, 200);
    const r = await call(a.base, 'POST', '/revoke', { form: { token, token_type_hint: 'access_token' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await eventually('B refusing the revoked token', 1000, async () => (await call(b.base, 'GET', '/users/me', { token })).status === 401);
  });

  it('issue 13 item 20: revoking a refresh token through one instance ends its access token on the other (the session\'s sid)', async () => {
    await register('appleaver', '192.0.2.45');
    const tokens = (await login(b.base, 'appleaver')).body as { access_token: string; refresh_token: string };
    assert.equal((await call(b.base, 'GET', '/users/me', { token: tokens.access_token })).status, 200, 'B has verified and cached the token and the user');
    const r = await call(a.base, 'POST', '/revoke', { form: { token: tokens.refresh_token, token_type_hint: 'refresh_token' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await eventually('B refusing the ended session\'s access token', 1000, async () => (await call(b.base, 'GET', '/users/me', { token: tokens.access_token })).status === 401);
  });

  it('issue 18: a user ends one of their other sessions through the API on one instance; its tokens stop on both', async () => {
    await register('selfserve', '192.0.2.46');
    const keep = (await login(a.base, 'selfserve')).body as { access_token: string; refresh_token: string };
    const other = (await login(b.base, 'selfserve')).body as { access_token: string; refresh_token: string };
    const third = (await login(b.base, 'selfserve')).body as { access_token: string; refresh_token: string };
    for (const base of [a.base, b.base]) {
      for (const t of [keep, other, third]) assert.equal((await call(base, 'GET', '/users/me', { token: t.access_token })).status, 200, 'both instances have verified and cached every token');
    }
    const sid = JSON.parse(Buffer.from(other.access_token.split('.')[1]!, 'base64url').toString()).sid as string;
    const listed = await call(b.base, 'GET', '/users/me/sessions', { token: keep.access_token });
    assert.equal((listed.body.items as Array<{ sid: string; current: boolean }>).find((x) => x.current)?.sid !== sid, true);
    const del = await call(a.base, 'DELETE', `/users/me/sessions/${sid}`, { token: keep.access_token });
    assert.equal(del.status, 204, JSON.stringify(del.body));
    for (const [name, base] of [['A', a.base], ['B', b.base]] as const) {
      await eventually(`${name} refusing the ended session's access token`, 1000, async () => (await call(base, 'GET', '/users/me', { token: other.access_token })).status === 401);
      assert.equal((await call(base, 'GET', '/users/me', { token: keep.access_token })).status, 200, `${name} still accepts the caller's session`);
      assert.equal((await call(base, 'GET', '/users/me', { token: third.access_token })).status, 200, `${name} still accepts the untouched session`);
    }
    assert.equal((await call(b.base, 'POST', '/token', { form: { grant_type: 'refresh_token', refresh_token: other.refresh_token } })).status, 400);
    // "Log out the other sessions" through B: the third session stops on A at once (its sid published).
    const others = await call(b.base, 'POST', '/users/me/sessions/logout-others', { token: keep.access_token });
    assert.equal(others.status, 200, JSON.stringify(others.body));
    for (const [name, base] of [['A', a.base], ['B', b.base]] as const) {
      await eventually(`${name} refusing the other session's token after logout-others`, 1000, async () => (await call(base, 'GET', '/users/me', { token: third.access_token })).status === 401);
      assert.equal((await call(base, 'GET', '/users/me', { token: keep.access_token })).status, 200);
    }
  });

  it('issue 18: a user ends another session from the account page (headless Chromium, through the load balancer); its tokens stop on both instances', { skip: requireService(existsSync(CHROMIUM), 'chromium at /usr/bin/chromium').skip }, async () => {
    await register('pageuser', '192.0.2.47');
    const other = (await call(a.base, 'POST', '/token', { form: { grant_type: 'password', username: 'pageuser', password: STRONG_PASSWORD } })).body as { access_token: string };
    for (const base of [a.base, b.base]) assert.equal((await call(base, 'GET', '/users/me', { token: other.access_token })).status, 200);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const first = await page.goto(`${lb}/account`);
      assert.equal(first!.status(), 200, await page.content());
      await page.getByLabel('Username or e-mail').fill('pageuser');
      await page.getByLabel('Password').fill(STRONG_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
      // Served by both instances in turn: the sign-in session and its CSRF binding are shared.
      await page.reload();
      await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
      const item = page.locator('ul.sessions > li:not([aria-current])');
      assert.equal(await item.count(), 1);
      await item.getByRole('button', { name: 'End this session' }).click();
      await page.getByText('The session was ended').waitFor();
    } finally {
      await browser.close();
    }
    for (const [name, base] of [['A', a.base], ['B', b.base]] as const) {
      await eventually(`${name} refusing the session ended from the account page`, 1000, async () => (await call(base, 'GET', '/users/me', { token: other.access_token })).status === 401);
    }
  });

  it('sees a signing-key rotation made on one instance on the other', async () => {
    await register('rotator', '192.0.2.50');
    const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;
    const before = kidOf((await login(a.base, 'rotator')).body.access_token as string);
    const rotated = await call(a.base, 'POST', '/admin/keys/rotate', { token: adminToken });
    assert.ok(rotated.status < 300, `rotation through instance A: ${rotated.status} ${JSON.stringify(rotated.body)}`);
    // A token signed by A with the new key: B has never seen its kid and must reload rather than refuse.
    const token = (await login(a.base, 'rotator')).body.access_token as string;
    assert.notEqual(kidOf(token), before, 'A signs with the new key');
    const me = await call(b.base, 'GET', '/users/me', { token });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    const jwks = await call(b.base, 'GET', '/.well-known/jwks.json');
    assert.ok((jwks.body.keys as Array<{ kid: string }>).some((k) => k.kid === kidOf(token)), 'B publishes the new key');
  });

  it('keeps serving when Redis dies (lockout fails closed, /readyz degraded) and recovers without a restart when it is back', async () => {
    await register('survivor', '192.0.2.60');
    const token = (await login(lb, 'survivor')).body.access_token as string;
    await call(a.base, 'GET', '/users/me', { token });
    await call(b.base, 'GET', '/users/me', { token });

    redis!.kill('SIGKILL');
    await new Promise((resolve) => redis!.once('exit', resolve));
    for (const i of [a, b]) {
      await eventually(`instance ${i.port} reporting degraded`, 3000, async () => {
        const r = await call(i.base, 'GET', '/readyz');
        return r.status === 200 && r.body.status === 'degraded' && (r.body.checks as Record<string, string>).redis !== 'ok';
      });
    }
    // Bearer requests do not need Redis: both instances keep answering, fast.
    for (let i = 0; i < 6; i++) {
      const started = Date.now();
      const me = await call(lb, 'GET', '/users/me', { token });
      assert.equal(me.status, 200);
      assert.ok(Date.now() - started < 1000, 'no request waits on the dead Redis');
    }
    // Lockout cannot count: it refuses logins rather than allow unlimited guessing.
    for (const i of [a, b]) {
      const r = await login(i.base, 'survivor');
      assert.equal(r.status, 503, `instance ${i.port} refuses logins (503, not a wrong password) while it cannot count failures`);
    }
    // Rate limits fail open: registration still works.
    await register('during-outage', '192.0.2.61');
    assert.match(a.log() + b.log(), /Redis is unreachable/, 'the outage is logged');

    redis = await startRedis(redisPort);
    for (const i of [a, b]) {
      await eventually(`instance ${i.port} ready again`, 5000, async () => (await call(i.base, 'GET', '/readyz')).body.status === 'ok');
    }
    const again = await login(a.base, 'survivor');
    assert.equal(again.status, 200, 'logins work again');
    // Pub/sub resubscribed: a logout through A reaches B.
    const fresh = again.body.access_token as string;
    assert.equal((await call(b.base, 'GET', '/users/me', { token: fresh })).status, 200);
    const id = ((await call(b.base, 'GET', '/users/me', { token: fresh })).body as { id: string }).id;
    assert.equal((await call(a.base, 'POST', `/admin/users/${id}/logout`, { token: adminToken })).status, 204);
    await eventually('B honouring the logout after the outage', 1000, async () => (await call(b.base, 'GET', '/users/me', { token: fresh })).status === 401);
    // An info line: written with the next batch of the request log (LOG_FLUSH_MS), not at once.
    await eventually('the recovery in the log', 2000, async () => /Redis is reachable again/.test(a.log() + b.log()));
  });
});
