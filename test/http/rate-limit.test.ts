import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryStateStore } from '../../src/kernel/storage/state/memory.js';
import { ManualClock } from '../../src/kernel/clock.js';
import { createTestApp, form, type TestApp } from '../support/app.js';

const LIMITS = {
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_GLOBAL: '8',
  RATE_LIMIT_TOKEN: '3',
  RATE_LIMIT_REGISTER: '2',
  RATE_LIMIT_ACCOUNT: '2',
  RATE_LIMIT_WINDOW_SECONDS: '60',
};

const badLogin = form({ grant_type: 'password', username: 'nobody', password: 'wrong wrong wrong' });

describe('rate limits', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { ...LIMITS, TRUSTED_PROXIES: '10.0.0.1' } });
  });
  after(() => t.close());

  it('allows exactly RATE_LIMIT_GLOBAL requests per window per IP, then 429 with Retry-After and RateLimit-* headers', async () => {
    const ip = '198.51.100.1';
    for (let i = 1; i <= 8; i++) {
      const res = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: ip });
      assert.equal(res.statusCode, 200, `request ${i}`);
      assert.equal(res.headers['ratelimit-limit'], '8');
      assert.equal(res.headers['ratelimit-remaining'], String(8 - i));
    }
    const res = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: ip });
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['ratelimit-remaining'], '0');
    assert.equal(res.headers['ratelimit-policy'], '8;w=60');
    const retry = Number(res.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    assert.equal(res.json().code, 'rate_limited');
    // Security headers on the refusal too.
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    // Other clients are not affected; 404s count too.
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '198.51.100.2' })).statusCode, 200);
  });

  it('opens again when the window ends (injected clock, no sleeping)', async () => {
    const ip = '198.51.100.3';
    for (let i = 0; i < 8; i++) await t.app.inject({ method: 'GET', url: '/nope', remoteAddress: ip });
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: ip })).statusCode, 429);
    t.clock.advance(60_001);
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: ip })).statusCode, 200);
  });

  it('limits POST /token harder, answering RFC 6749 style', async () => {
    const ip = '198.51.100.4';
    for (let i = 1; i <= 3; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/token', remoteAddress: ip, ...badLogin });
      assert.equal(res.statusCode, 400, `attempt ${i}: ${res.body}`);
      assert.equal(res.headers['ratelimit-limit'], '3');
    }
    const res = await t.app.inject({ method: 'POST', url: '/token', remoteAddress: ip, ...badLogin });
    assert.equal(res.statusCode, 429);
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.equal(res.json().error, 'slow_down');
    assert.equal(typeof res.json().error_description, 'string');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('limits registration (rateLimitGroup register)', async () => {
    const ip = '198.51.100.5';
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/users', remoteAddress: ip, payload: { username: 'x' } });
      codes.push(res.statusCode);
    }
    assert.deepEqual(codes, [422, 422, 429]);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const ip = '198.51.100.6';
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/token', remoteAddress: ip, headers: { ...badLogin.headers, 'x-forwarded-for': `203.0.113.${i}` }, payload: badLogin.payload });
      assert.equal(res.statusCode, 400);
    }
    const res = await t.app.inject({ method: 'POST', url: '/token', remoteAddress: ip, headers: { ...badLogin.headers, 'x-forwarded-for': '203.0.113.99' }, payload: badLogin.payload });
    assert.equal(res.statusCode, 429, 'a fresh spoofed X-Forwarded-For must not reset the count');
  });

  it('believes X-Forwarded-For from a trusted proxy: clients behind it are counted apart', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/token', remoteAddress: '10.0.0.1', headers: { ...badLogin.headers, 'x-forwarded-for': '192.0.2.7' }, payload: badLogin.payload });
      assert.equal(res.statusCode, 400);
    }
    const same = await t.app.inject({ method: 'POST', url: '/token', remoteAddress: '10.0.0.1', headers: { ...badLogin.headers, 'x-forwarded-for': '192.0.2.7' }, payload: badLogin.payload });
    assert.equal(same.statusCode, 429);
    const other = await t.app.inject({ method: 'POST', url: '/token', remoteAddress: '10.0.0.1', headers: { ...badLogin.headers, 'x-forwarded-for': '192.0.2.8' }, payload: badLogin.payload });
    assert.equal(other.statusCode, 400);
  });

  it('counts concurrent requests atomically: 50 at once against a limit of 8 let exactly 8 through', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '198.51.100.7' })),
    );
    const ok = results.filter((r) => r.statusCode === 200).length;
    const limited = results.filter((r) => r.statusCode === 429).length;
    assert.equal(ok, 8);
    assert.equal(limited, 42);
  });

  it('keeps counters in the shared StateStore (what makes a Redis store share them between instances)', async () => {
    const state = t.warden.state as MemoryStateStore;
    assert.ok((await state.get('rl:global:198.51.100.7')) !== null);
  });

  it('counts refusals in the metrics', async () => {
    const text = await t.warden.metrics.registry.getSingleMetricAsString('warden_rate_limited_total');
    assert.match(text, /warden_rate_limited_total\{group="global"\} \d+/);
    assert.match(text, /warden_rate_limited_total\{group="token"\} \d+/);
  });
});

describe('rate limits shared between two apps on one state store', () => {
  it('a client cannot double its budget by alternating instances', async () => {
    const clock = new ManualClock(Date.now());
    const state = new MemoryStateStore(clock);
    const a = await createTestApp({ env: { ...LIMITS }, clock, state });
    const b = await createTestApp({ env: { ...LIMITS }, clock, state });
    try {
      const codes = [];
      for (let i = 0; i < 10; i++) codes.push((await (i % 2 ? b : a).app.inject({ method: 'GET', url: '/healthz', remoteAddress: '198.51.100.9' })).statusCode);
      assert.deepEqual(codes, [200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await a.close();
      await b.close();
      await state.close();
    }
  });
});

describe('rate limits off', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { ...LIMITS, RATE_LIMIT_ENABLED: 'false' } });
  });
  after(() => t.close());

  it('RATE_LIMIT_ENABLED=false turns every limit off', async () => {
    for (let i = 0; i < 12; i++) {
      const res = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '198.51.100.10' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['ratelimit-limit'], undefined);
    }
  });
});
