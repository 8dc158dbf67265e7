import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { register as globalRegistry } from 'prom-client';
import { Metrics } from '../../src/platform/metrics.js';
import type { PasswordHasher } from '../../src/features/users/password-hasher.js';
import { createTestApp, form, registerUser, tokensFor, type TestApp } from '../support/app.js';

describe('/healthz and /readyz', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('/healthz answers 200 while the process runs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('/readyz answers 200 with the database reachable and migrated', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().checks.database, 'ok');
  });

  it('/readyz answers 503 while a migration is missing', async () => {
    const db = t.warden.db;
    const rows = (await db.execute(sql`select id, hash, created_at from drizzle.__drizzle_migrations order by id desc limit 1`)) as unknown as {
      rows: Array<{ id: number; hash: string; created_at: string }>;
    };
    const last = rows.rows[0]!;
    await db.execute(sql`delete from drizzle.__drizzle_migrations where id = ${last.id}`);
    try {
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().status, 'unavailable');
      assert.match(res.json().checks.database, /migrations pending/);
    } finally {
      await db.execute(sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last.id}, ${last.hash}, ${last.created_at})`);
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});

describe('/metrics', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '2', TRUSTED_PROXIES: '10.0.0.1' } });
  });
  after(() => t.close());

  it('serves Prometheus text to loopback with requests, latency, logins, tokens by grant, lockouts and the hash queue', async () => {
    await registerUser(t.app, 'metered');
    const tokens = await tokensFor(t.app, 'metered');
    await t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }) });
    for (let i = 0; i < 2; i++) {
      await t.app.inject({ method: 'POST', url: '/token', ...form({ username: 'metered', password: 'wrong password here' }) });
      t.clock.advance(60_000); // past the lockout's slowdown pause
    }
    await t.app.inject({ method: 'POST', url: '/token', ...form({ username: 'metered', password: 'wrong password here' }) });
    await t.app.inject({ method: 'GET', url: '/no/such/path/123' });

    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const body = res.body;
    for (const want of [
      /warden_http_requests_total\{method="POST",route="\/users",status="201"\} 1/,
      /warden_http_requests_total\{method="POST",route="\/token",status="200"\} 2/,
      /warden_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/,
      /warden_http_request_duration_seconds_bucket\{le="0.1",method="POST",route="\/token",status="200"\}/,
      /warden_logins_total\{result="ok",reason=""\} 1/,
      /warden_logins_total\{result="failed",reason="bad_password"\} 2/,
      /warden_tokens_issued_total\{grant="password"\} 1/,
      /warden_tokens_issued_total\{grant="refresh_token"\} 1/,
      /warden_accounts_locked_total 1/,
      /warden_login_locked_out_total 1/,
      /warden_password_hash_waiting 0/,
      /warden_password_hash_running 0/,
      /process_cpu_user_seconds_total/,
    ]) {
      assert.match(body, want);
    }
    // The path of a 404 never becomes a label (scanners would blow up the series count).
    assert.doesNotMatch(body, /no\/such\/path/);
  });

  it('is hidden (404) from other networks, also behind a trusted proxy', async () => {
    const outside = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.5' });
    assert.equal(outside.statusCode, 404);
    assert.doesNotMatch(outside.body, /warden_/);
    const proxied = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' } });
    assert.equal(proxied.statusCode, 404);
    // A client that is not a trusted proxy cannot claim to be loopback.
    const spoofed = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.5', headers: { 'x-forwarded-for': '127.0.0.1' } });
    assert.equal(spoofed.statusCode, 404);
  });

  it('keeps each app in its own registry, never prom-client’s global one', async () => {
    assert.notEqual(t.warden.metrics.registry, globalRegistry);
    assert.equal(await globalRegistry.getSingleMetric('warden_http_requests_total'), undefined);
  });
});

describe('request latency histogram', () => {
  it('is cumulative per series, with +Inf, _sum and _count, as Prometheus reads a histogram', async () => {
    const m = new Metrics({ load: { running: 0, waiting: 0 } } as PasswordHasher, { defaultMetrics: false });
    for (const s of [0.004, 0.02, 0.02, 20]) m.recordRequest('GET', '/users/me', 200, s);
    m.recordRequest('POST', '/token', 400, 0.3);
    const text = await m.registry.metrics();
    const series = (name: string, le?: string) => {
      const labels = `${le ? `le="${le}",` : ''}method="GET",route="/users/me",status="200"`;
      const line = text.split('\n').find((l) => l.startsWith(`warden_http_request_duration_seconds_${name}{${labels}}`));
      assert.ok(line, `${name} ${le ?? ''}`);
      return Number(line.split(' ').at(-1));
    };
    assert.equal(series('bucket', '0.005'), 1);
    assert.equal(series('bucket', '0.01'), 1);
    assert.equal(series('bucket', '0.025'), 3);
    assert.equal(series('bucket', '10'), 3);
    assert.equal(series('bucket', '+Inf'), 4);
    assert.equal(series('count'), 4);
    assert.ok(Math.abs(series('sum') - 20.044) < 1e-9);
    assert.match(text, /warden_http_request_duration_seconds_bucket\{le="0.25",method="POST",route="\/token",status="400"\} 0/);
    assert.match(text, /warden_http_request_duration_seconds_bucket\{le="0.5",method="POST",route="\/token",status="400"\} 1/);
    assert.match(text, /warden_http_requests_total\{method="GET",route="\/users\/me",status="200"\} 4/);
  });
});

describe('/metrics with METRICS_ALLOWED_NETWORKS', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { METRICS_ALLOWED_NETWORKS: '10.20.0.0/16' } });
  });
  after(() => t.close());

  it('answers the listed network only (loopback is no longer special)', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.20.3.4' })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 404);
  });
});
