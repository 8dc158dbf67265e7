import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { authenticator } from 'otplib';
import { decodeProtectedHeader, exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';
import type { Clock } from '../../src/kernel/clock.js';
import { ConfigError } from '../../src/kernel/config/load.js';
import { Keyring, sealedAt } from '../../src/kernel/storage/encryption.js';
import { mfaTotp } from '../../src/features/account/tables.js';
import { signingKeys } from '../../src/features/tokens/tables.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import { bearer, createTestApp, registerUser, testConfig, testDatabase, tokensFor, type TestApp } from '../support/app.js';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('hex');
const STEP = 30_000;

/** Signing keys and TOTP secrets are sealed with ENCRYPTION_KEY (AES-256-GCM), never stored in clear. */
describe('secrets at rest', () => {
  let t: TestApp;
  const others: Warden[] = [];
  beforeEach(async () => {
    await t?.close();
    t = await createTestApp({ env: { ENCRYPTION_KEY: K1 } });
  });
  after(async () => {
    for (const w of others) await w.close();
    await t?.close();
  });

  /** Another start of Warden on the same database (as a restart with other settings would be). */
  const restart = async (env: Record<string, string>) => {
    const w = await createWarden(testConfig(env), { database: await testDatabase(), clock: t.clock as Clock, migrate: false });
    others.push(w);
    return w;
  };
  const keyRows = () => t.warden.db.select().from(signingKeys);

  async function enrolTotp(name: string) {
    const u = await registerUser(t.app, name);
    const { access_token } = await tokensFor(t.app, name);
    const e = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp', headers: bearer(access_token) });
    assert.equal(e.statusCode, 200, e.body);
    const { secret } = e.json() as { secret: string };
    const code = authenticator.clone({ epoch: t.clock.now() }).generate(secret);
    const c = await t.app.inject({ method: 'POST', url: '/users/me/mfa/totp/confirm', headers: bearer(access_token), payload: { code } });
    assert.equal(c.statusCode, 200, c.body);
    t.clock.advance(STEP);
    return { id: u.id, secret };
  }
  const totpNow = (secret: string) => authenticator.clone({ epoch: t.clock.now() }).generate(secret);

  it('the signing key row holds no private key material: private_jwk is empty and private_key is sealed', async () => {
    const [row] = await keyRows();
    assert.equal(row!.privateJwk, null);
    assert.match(row!.privateKey!, /^enc1:[\w-]{8}:[\w-]{16}:[\w-]+$/);
    const jwk = JSON.parse(Keyring.fromConfig(t.config).open(row!.privateKey!, sealedAt.signingKey(row!.kid))) as { d: string };
    assert.equal(typeof jwk.d, 'string');
    assert.ok(!JSON.stringify(row).includes(jwk.d), 'the private scalar appears nowhere in the row');
    // And it signs: a token verifies against the published key.
    const { access_token } = await tokensFor(t.app, (await registerUser(t.app, 'signer')).username);
    assert.equal(decodeProtectedHeader(access_token).kid, row!.kid);
  });

  it('a TOTP secret is stored sealed, and codes from it still verify', async () => {
    const { id, secret } = await enrolTotp('alice');
    const [row] = await t.warden.db.select().from(mfaTotp).where(eq(mfaTotp.userId, id));
    assert.match(row!.secret, /^enc1:/);
    assert.ok(!row!.secret.includes(secret));
    assert.equal(await t.warden.mfa.verify(id, totpNow(secret), { ip: '127.0.0.1' }), true);
  });

  it('a key that stops signing loses its private part: retiring at rotation, and still none once retired', async () => {
    const [old] = await keyRows();
    await t.warden.keys.rotate();
    const rows = await keyRows();
    const retiring = rows.find((r) => r.kid === old!.kid)!;
    assert.equal(retiring.state, 'retiring');
    assert.equal(retiring.privateKey, null);
    assert.equal(retiring.privateJwk, null);
    assert.match(rows.find((r) => r.state === 'active')!.privateKey!, /^enc1:/);
    t.clock.advance(3600_000);
    assert.equal(await t.warden.keys.retireExpired(), 1);
    const retired = (await keyRows()).find((r) => r.kid === old!.kid)!;
    assert.deepEqual([retired.state, retired.privateKey, retired.privateJwk], ['retired', null, null]);
  });

  it('rows stored in clear by an earlier version are sealed at start and keep working; retired ones lose the private part', async () => {
    const { id, secret } = await enrolTotp('legacy');
    // What a database from before encryption at rest holds.
    await t.warden.db.update(mfaTotp).set({ secret }).where(eq(mfaTotp.userId, id));
    await t.warden.db.delete(signingKeys);
    const legacy = async (state: 'active' | 'retired') => {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const pub = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(pub);
      await t.warden.db.insert(signingKeys).values({
        kid,
        alg: 'EdDSA',
        publicJwk: { ...pub, kid, alg: 'EdDSA', use: 'sig' },
        privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' },
        state,
        createdAt: new Date(t.clock.now() - (state === 'retired' ? 86400_000 : 0)),
      });
      return kid;
    };
    const activeKid = await legacy('active');
    const retiredKid = await legacy('retired');

    const w = await restart({ ENCRYPTION_KEY: K1 });
    const rows = await keyRows();
    const active = rows.find((r) => r.kid === activeKid)!;
    assert.equal(active.privateJwk, null);
    assert.match(active.privateKey!, /^enc1:/);
    assert.deepEqual(
      rows.filter((r) => r.kid === retiredKid).map((r) => [r.privateKey, r.privateJwk]),
      [[null, null]],
    );
    const [totpRow] = await t.warden.db.select().from(mfaTotp).where(eq(mfaTotp.userId, id));
    assert.match(totpRow!.secret, /^enc1:/);
    // The migrated key is still the signing key; the migrated secret still verifies.
    assert.equal(w.keys.signingKey().kid, activeKid);
    assert.equal(await w.mfa.verify(id, totpNow(secret), { ip: '127.0.0.1' }), true);
    // A second start finds nothing left to do and changes nothing.
    const before = JSON.stringify(await keyRows());
    await restart({ ENCRYPTION_KEY: K1 });
    assert.equal(JSON.stringify(await keyRows()), before);
  });

  it('a wrong or missing key refuses the start with one line naming ENCRYPTION_KEY', async () => {
    await enrolTotp('bob');
    for (const env of [{ ENCRYPTION_KEY: K2 }, {}] as Record<string, string>[]) {
      await assert.rejects(
        () => restart(env),
        (e: Error) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.match(e.message, /^ENCRYPTION_KEY: secrets in the database are encrypted with key [\w-]{8}, which neither ENCRYPTION_KEY nor SECRET_KEY provides/);
          assert.ok(!e.message.includes('\n'));
          return true;
        },
      );
    }
  });

  it('rotating the keyring: a new first key re-encrypts at start, the old one still decrypts until then', async () => {
    const { id, secret } = await enrolTotp('carol');
    const oldId = new Keyring([Buffer.from(K1, 'base64')]).currentKeyId;
    const newId = new Keyring([Buffer.from(K2, 'hex')]).currentKeyId;
    // Step 1 of a rolling rotation: the new key added last everywhere — nothing changes, all decrypts.
    await restart({ ENCRYPTION_KEY: `${K1},${K2}` });
    assert.ok((await keyRows()).every((r) => r.state !== 'active' || r.privateKey!.startsWith(`enc1:${oldId}:`)));
    // Step 2: the new key first — the start re-encrypts every secret under it.
    const w = await restart({ ENCRYPTION_KEY: `${K2},${K1}` });
    const [totpRow] = await t.warden.db.select().from(mfaTotp).where(eq(mfaTotp.userId, id));
    assert.ok(totpRow!.secret.startsWith(`enc1:${newId}:`));
    assert.ok((await keyRows()).every((r) => r.state !== 'active' || r.privateKey!.startsWith(`enc1:${newId}:`)));
    assert.equal(await w.mfa.verify(id, totpNow(secret), { ip: '127.0.0.1' }), true);
    // Step 3: the old key removed — everything still opens.
    t.clock.advance(STEP);
    const w2 = await restart({ ENCRYPTION_KEY: K2 });
    assert.equal(await w2.mfa.verify(id, totpNow(secret), { ip: '127.0.0.1' }), true);
  });

  it('a sealed value moved to another row does not open', async () => {
    const ring = Keyring.fromConfig(t.config);
    const sealed = ring.seal('JBSWY3DPEHPK3PXP', sealedAt.totpSecret('user-a'));
    assert.equal(ring.open(sealed, sealedAt.totpSecret('user-a')), 'JBSWY3DPEHPK3PXP');
    assert.throws(() => ring.open(sealed, sealedAt.totpSecret('user-b')), /^ConfigError: ENCRYPTION_KEY: a secret encrypted with key/);
  });
});
