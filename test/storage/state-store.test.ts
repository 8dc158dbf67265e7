import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../src/kernel/clock.js';
import { MemoryStateStore } from '../../src/kernel/storage/state/memory.js';
import { RedisStateStore } from '../../src/kernel/storage/state/redis.js';
import { StateUnavailableError, type StateStore } from '../../src/kernel/storage/state/store.js';
import { Redis } from 'ioredis';
import { systemClock } from '../../src/kernel/clock.js';
import { openStateStore } from '../../src/app/warden.js';
import { requireService, testConfig } from '../support/app.js';

export const TEST_REDIS_URL = process.env.WARDEN_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** Is something answering PING at url? (Checked before the suite, so a missing Redis skips it.) */
export async function redisReachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || 6379), timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(/^\+PONG|^-NOAUTH/.test(d.toString())));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * One backend under test: how to make a store (several share one backend, like instances), how to let
 * time pass (a manual clock for memory, real time for Redis, whose TTLs run on its own clock), and how
 * to read a key's remaining TTL.
 */
interface Backend {
  name: string;
  skip: string | false;
  make(): Promise<StateStore>;
  pass(ms: number): Promise<void>;
  ttlOf(store: StateStore, key: string): Promise<number>;
}

const clock = new ManualClock(Date.now());
const sharedMemory = new MemoryStateStore(clock);
const memory: Backend = {
  name: 'MemoryStateStore',
  skip: false,
  // One process is the memory store's whole world: "two instances" share the one store.
  make: async () => sharedMemory,
  pass: async (ms) => clock.advance(ms),
  ttlOf: async (store, key) => {
    const m = store as MemoryStateStore;
    const e = (m as unknown as { entries: Map<string, { expiresAt: number }> }).entries.get(key);
    return e ? e.expiresAt - clock.now() : -2;
  },
};

const redisUp = await redisReachable(TEST_REDIS_URL);
// A prefix per run keeps parallel runs (and other users of the machine's Redis) apart.
const prefix = `warden-test:${randomBytes(4).toString('hex')}:`;
const redisStores: RedisStateStore[] = [];
const redis: Backend = {
  name: 'RedisStateStore',
  skip: requireService(redisUp, `Redis at ${TEST_REDIS_URL}`).skip,
  async make() {
    const s = new RedisStateStore(TEST_REDIS_URL, { prefix });
    redisStores.push(s);
    assert.equal(await s.connected(3000), true, 'connects');
    return s;
  },
  pass: (ms) => sleep(ms),
  ttlOf: (store, key) => (store as RedisStateStore).ttlOf(key),
};

after(async () => {
  await sharedMemory.close();
  for (const s of redisStores) await s.close();
});

for (const backend of [memory, redis]) {
  describe(`state store conformance: ${backend.name}`, { skip: backend.skip }, () => {
    let n = 0;
    const key = (what: string) => `${what}:${++n}:${randomBytes(3).toString('hex')}`;

    it('counts 100 concurrent increments exactly (atomic), from two instances', async () => {
      const [a, b] = [await backend.make(), await backend.make()];
      const k = key('count');
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).increment(k, 60_000)));
      const values = results.map((r) => r.value).sort((x, y) => x - y);
      assert.deepEqual(values, Array.from({ length: 100 }, (_, i) => i + 1), 'every caller saw a distinct value');
      assert.equal((await a.increment(k, 60_000, 5)).value, 105, 'by adds more than one');
    });

    it('gives a counter its TTL on creation and does not extend it on later increments', async () => {
      const s = await backend.make();
      const k = key('window');
      const first = await s.increment(k, 10_000);
      assert.equal(first.value, 1);
      assert.ok(first.resetInMs > 9_000 && first.resetInMs <= 10_000, `resetInMs ${first.resetInMs}`);
      await backend.pass(30);
      const second = await s.increment(k, 10_000);
      assert.ok(second.resetInMs <= 10_000 - 20, `window not restarted (${second.resetInMs})`);
    });

    it('expires counters and values after their TTL', async () => {
      const s = await backend.make();
      const [c, v, once] = [key('c'), key('v'), key('once')];
      await s.increment(c, 100);
      await s.increment(c, 100);
      await s.set(v, 'x', 100);
      assert.equal(await s.setIfAbsent(once, '1', 100), true);
      assert.equal(await s.get(v), 'x');
      await backend.pass(250);
      assert.equal(await s.get(v), null);
      assert.equal((await s.increment(c, 100)).value, 1, 'a new window starts from 1');
      assert.equal(await s.setIfAbsent(once, '1', 100), true, 'a replay guard frees up after its TTL');
    });

    it('lets exactly one of many concurrent setIfAbsent calls win', async () => {
      const [a, b] = [await backend.make(), await backend.make()];
      const k = key('nx');
      const wins = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).setIfAbsent(k, String(i), 60_000)));
      assert.equal(wins.filter(Boolean).length, 1);
      const winner = wins.indexOf(true);
      assert.equal(await b.get(k), String(winner), 'the winner’s value is stored');
    });

    it('gets, overwrites and deletes values', async () => {
      const s = await backend.make();
      const k = key('kv');
      assert.equal(await s.get(k), null);
      await s.set(k, 'one', 60_000);
      await s.set(k, 'two', 60_000);
      assert.equal(await s.get(k), 'two');
      await s.delete(k);
      assert.equal(await s.get(k), null);
      assert.equal(await s.setIfAbsent(k, 'three', 60_000), true, 'deleted keys can be claimed again');
      const [x, y, z] = [key('del-x'), key('del-y'), key('del-z')];
      for (const each of [x, y, z]) await s.set(each, '1', 60_000);
      await s.delete(x, y);
      assert.deepEqual([await s.get(x), await s.get(y), await s.get(z)], [null, null, '1'], 'several keys in one call, the others kept');
      await s.delete();
    });

    it('puts a TTL on every key it writes (nothing piles up: better-auth #4472)', async () => {
      const s = await backend.make();
      const [c, v, once] = [key('ttl-c'), key('ttl-v'), key('ttl-once')];
      await s.increment(c, 60_000);
      await s.increment(c, 60_000, 3);
      await s.set(v, 'x', 60_000);
      await s.setIfAbsent(once, 'x', 60_000);
      for (const k of [c, v, once]) {
        const left = await backend.ttlOf(s, k);
        assert.ok(left > 0 && left <= 60_000, `${k} has a TTL (${left})`);
      }
    });

    it('delivers published messages to subscribers on every instance, the publisher included', async () => {
      const [a, b] = [await backend.make(), await backend.make()];
      const channel = key('chan');
      const gotA: string[] = [];
      const gotB: string[] = [];
      a.subscribe(channel, (m) => gotA.push(m));
      b.subscribe(channel, (m) => gotB.push(m));
      b.subscribe(`${channel}-other`, () => assert.fail('other channels stay quiet'));
      await sleep(50); // SUBSCRIBE reaches Redis
      await a.publish(channel, 'jti-1 123');
      await b.publish(channel, 'user-2');
      for (let i = 0; i < 100 && (gotA.length < 2 || gotB.length < 2); i++) await sleep(10);
      assert.deepEqual(gotA.sort(), ['jti-1 123', 'user-2']);
      assert.deepEqual(gotB.sort(), ['jti-1 123', 'user-2']);
    });

    it('reports itself healthy while its backend is reachable', async () => {
      const s = await backend.make();
      assert.equal(s.healthy(), true);
    });
  });
}

describe('RedisStateStore after its subscription connection is cut', { skip: redis.skip }, () => {
  it('resubscribes on its own and tells holders of mirrored state to re-read it', async () => {
    const name = `warden-test-${randomBytes(4).toString('hex')}`;
    const s = new RedisStateStore(TEST_REDIS_URL, { prefix, connectionName: name, maxReconnectDelayMs: 50, log: { warn: () => {}, info: () => {} } });
    const killer = new RedisStateStore(TEST_REDIS_URL, { prefix });
    redisStores.push(s, killer);
    assert.equal(await s.connected(3000), true);
    let resyncs = 0;
    s.onReconnect(() => resyncs++);
    const got: string[] = [];
    s.subscribe('resub', (m) => got.push(m));
    await sleep(50);
    // Only this store's subscriber connection is killed (by its name); other users of the Redis are untouched.
    const raw = (killer as unknown as { client: { client(...args: string[]): Promise<string> } }).client;
    const list = await raw.client('LIST');
    let killed = 0;
    for (const line of list.split('\n')) {
      const m = /^id=(\d+) .* name=(\S+)/.exec(line);
      if (m && m[2] === `${name}-sub`) {
        await raw.client('KILL', 'ID', m[1]!);
        killed++;
      }
    }
    assert.equal(killed, 1, 'found the subscriber connection');
    for (let i = 0; i < 200 && resyncs === 0; i++) await sleep(10);
    assert.equal(resyncs, 1, 'holders were told to resync once');
    assert.equal(s.healthy(), true);
    await killer.publish('resub', 'after');
    for (let i = 0; i < 100 && !got.length; i++) await sleep(10);
    assert.deepEqual(got, ['after'], 'subscription restored');
  });
});

describe('RedisStateStore without Redis', () => {
  it('fails fast instead of hanging, reports unhealthy, logs the outage once, and still delivers locally', async () => {
    // Nothing listens on port 1: every connection attempt is refused.
    const warnings: string[] = [];
    const s = new RedisStateStore('redis://127.0.0.1:1', {
      log: { error: (_o, m) => warnings.push(m), warn: (_o, m) => warnings.push(m), info: () => {} },
      maxReconnectDelayMs: 50,
    });
    try {
      assert.equal(await s.connected(200), false);
      assert.equal(s.healthy(), false);
      const started = performance.now();
      await assert.rejects(s.increment('k', 1000), StateUnavailableError);
      await assert.rejects(s.get('k'), StateUnavailableError);
      await assert.rejects(s.setIfAbsent('k', 'v', 1000), StateUnavailableError);
      assert.ok(performance.now() - started < 200, 'commands are refused at once, not queued');
      const got: string[] = [];
      s.subscribe('c', (m) => got.push(m));
      await s.publish('c', 'revoked');
      assert.deepEqual(got, ['revoked'], 'this instance learns of its own announcement during the outage');
      await sleep(300); // several reconnection attempts
      assert.equal(warnings.length, 1, `one line per outage, not per attempt: ${warnings.join(' | ')}`);
      assert.match(warnings[0]!, /Redis is unreachable/);
    } finally {
      await s.close();
    }
  });
});

// Issue 17 item 7: database numbers (redis://host/2) do not separate pub/sub, so two deployments on one
// Redis heard each other's revocations; REDIS_PREFIX separates keys and channels.
describe('REDIS_PREFIX', { skip: redis.skip }, () => {
  it('keeps two deployments on one Redis apart (keys and pub/sub), and one deployment together', async () => {
    const run = randomBytes(4).toString('hex');
    const open = (p: string) => openStateStore(testConfig({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `warden-test-${run}-${p}:` }), systemClock);
    const [a, a2, b] = [await open('a'), await open('a'), await open('b')];
    const raw = new Redis(TEST_REDIS_URL);
    try {
      const heard: Record<string, string[]> = { a: [], a2: [], b: [] };
      a.subscribe('revoked', (m) => heard.a!.push(m));
      a2.subscribe('revoked', (m) => heard.a2!.push(m));
      b.subscribe('revoked', (m) => heard.b!.push(m));
      await sleep(200); // SUBSCRIBE reaches Redis
      await a.publish('revoked', 'jti-1');
      await a.set('k', 'from-a', 10_000);
      for (let i = 0; i < 100 && !heard.a2!.length; i++) await sleep(10);
      await sleep(100);
      assert.deepEqual(heard, { a: ['jti-1'], a2: ['jti-1'], b: [] });
      assert.equal(await a2.get('k'), 'from-a');
      assert.equal(await b.get('k'), null);
      assert.equal(await raw.get(`warden-test-${run}-a:k`), 'from-a', 'the key carries the prefix');
    } finally {
      raw.disconnect();
      for (const s of [a, a2, b]) await s.close();
    }
  });
});
