import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock, type Clock } from '../../src/kernel/clock.js';
import { rotateSigningKey } from '../../src/features/oauth/keys-routes.js';
import { openDatabase, type Database } from '../../src/kernel/storage/database.js';
import { MemoryStateStore } from '../../src/kernel/storage/state/memory.js';
import type { StateStore } from '../../src/kernel/storage/state/store.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import { resetDatabase, testConfig, testDatabase } from '../support/app.js';
import { freshBackend } from '../support/process.js';
import { testPostgresUrl } from '../support/template.js';

const redisUrl = process.env.WARDEN_TEST_REDIS_URL;

/**
 * Two instances on one database. PGlite is one process's database: both share it and a memory state
 * store (the in-process bus). PostgreSQL: each has its own pool and its own state store, so only
 * LISTEN/NOTIFY (no Redis) or Redis pub/sub (WARDEN_TEST_REDIS_URL) can tell one of the other's rotation.
 */
async function twoInstances(env: Record<string, string>, clock: ManualClock, envB: Record<string, string> = env) {
  const disposers: Array<() => Promise<void>> = [];
  let databases: [Database, Database];
  let states: [StateStore, StateStore];
  if (testPostgresUrl()) {
    const backend = await freshBackend(`keys${Math.random().toString(36).slice(2, 8)}`);
    const a = await openDatabase({ databaseUrl: backend.env.DATABASE_URL!, poolSize: 3, allowExitOnIdle: true });
    await a.migrate();
    const b = await openDatabase({ databaseUrl: backend.env.DATABASE_URL!, poolSize: 3, allowExitOnIdle: true });
    databases = [a, b];
    disposers.push(() => a.close(), () => b.close(), () => backend.dispose());
  } else {
    const shared = await testDatabase();
    await resetDatabase(shared);
    databases = [shared, shared];
  }
  if (redisUrl && testPostgresUrl()) {
    const { RedisStateStore } = await import('../../src/kernel/storage/state/redis.js');
    const prefix = `warden-test-keys-${process.pid}-${Date.now()}:`;
    states = [new RedisStateStore(redisUrl, { prefix }), new RedisStateStore(redisUrl, { prefix })];
  } else if (testPostgresUrl()) {
    states = [new MemoryStateStore(clock), new MemoryStateStore(clock)];
  } else {
    const bus = new MemoryStateStore(clock);
    states = [bus, bus];
  }
  for (const s of new Set(states)) disposers.push(() => s.close());
  const a = await createWarden(testConfig(env), { database: databases[0], state: states[0], clock: clock as Clock, migrate: false });
  const b = await createWarden(testConfig(envB), { database: databases[1], state: states[1], clock: clock as Clock, migrate: false });
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      for (const d of disposers.reverse()) await d();
    },
  };
}

/** Real time: notifications travel over sockets. */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (check()) return true;
    await sleep(10);
  }
  return check();
}

const kidsOf = (w: Warden) => w.keys.jwks().keys.map((k) => k.kid);

describe(`a rotation reaches every instance at once (${testPostgresUrl() ? (redisUrl ? 'PostgreSQL + Redis' : 'PostgreSQL LISTEN/NOTIFY') : 'PGlite, one process'})`, () => {
  const clock = new ManualClock(Date.now());
  let pair: Awaited<ReturnType<typeof twoInstances>>;
  before(async () => {
    pair = await twoInstances({ ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') }, clock);
  });
  after(() => pair.close());

  it('the other instance signs with the new kid and publishes it within a second, without seeing a token first', async () => {
    const { a, b } = pair;
    const old = b.keys.signingKey().kid;
    assert.equal(a.keys.signingKey().kid, old);
    const kid = await rotateSigningKey(a, { actorId: 'test' }, 'manual');
    assert.notEqual(kid, old);
    assert.ok(await within(1000, () => b.keys.signingKey().kid === kid && kidsOf(b).includes(kid)), `b signs with ${b.keys.signingKey().kid}`);
    assert.ok(kidsOf(b).includes(old!), 'the old key still verifies and is still published');
    const issued = await b.accessTokens.issue({ subject: '00000000-0000-4000-8000-000000000001', scope: 'openid', clientId: 'warden' });
    assert.equal(JSON.parse(Buffer.from(issued.token.split('.')[0]!, 'base64url').toString()).kid, kid);
  });
});

describe('no token is refused before its exp, whoever retires the key', () => {
  const clock = new ManualClock(Date.now());
  let long: Warden;
  let short: Awaited<ReturnType<typeof twoInstances>>;
  before(async () => {
    // Instance a signs hour-long tokens; instance b runs with the default 15 minutes (as a CLI might).
    const key = { ENCRYPTION_KEY: Buffer.alloc(32, 4).toString('base64') };
    short = await twoInstances({ ...key, ACCESS_TOKEN_EXPIRE_MINUTES: '60' }, clock, key);
    long = short.a;
  });
  after(() => short.close());

  it('a key rotated and retired elsewhere keeps verifying until the last token signed with it here has expired', async () => {
    const { b } = short;
    const old = long.keys.signingKey().kid!;
    const token = await long.accessTokens.issue({ subject: '00000000-0000-4000-8000-000000000002', scope: 'openid', clientId: 'warden', ttlSeconds: 3600 });
    await rotateSigningKey(b, { actorId: 'test' }, 'manual');
    assert.ok(await within(1000, () => long.keys.signingKey().kid !== old), 'a hears of the rotation');
    // a signed with the old key until it heard: the key must outlive a's token lifetime, not b's.
    clock.advance(30 * 60_000);
    assert.equal(await b.keys.retireExpired(), 0, 'b does not retire the key while tokens signed by a are alive');
    assert.equal((await long.accessTokens.verify(token.token)).sub, '00000000-0000-4000-8000-000000000002');
    clock.advance(31 * 60_000);
    assert.equal(await b.keys.retireExpired(), 1, 'retired once they have all expired');
  });
});
