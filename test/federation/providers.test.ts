import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { Keyring, sealedAt } from '../../src/kernel/storage/encryption.js';
import { sealSecretsAtRest } from '../../src/app/seal-secrets.js';
import { identityProviders } from '../../src/features/federation/tables.js';
import { bearer, createAdmin, createTestApp, type TestApp } from '../support/app.js';

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('hex');

describe('identity providers: secrets at rest, admin API input', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { ENCRYPTION_KEY: K1 } });
  });
  after(() => t.close());

  it('a client secret is sealed under the keyring, bound to its row, and re-sealed when the first key changes', async () => {
    const p = await t.warden.identityProviders.create({ kind: 'github', name: 'GitHub', client_id: 'gh', client_secret: 'gh-secret' }, {});
    const [row] = await t.warden.db.select().from(identityProviders).where(eq(identityProviders.id, p.id));
    const k1 = new Keyring([Buffer.from(K1, 'base64')]);
    assert.ok(k1.isCurrent(row!.clientSecret));
    assert.equal(k1.open(row!.clientSecret, sealedAt.idpClientSecret(p.id)), 'gh-secret');
    assert.throws(() => k1.open(row!.clientSecret, sealedAt.idpClientSecret('another-row')), /ENCRYPTION_KEY/);
    // A new first key: the start (or `warden keys reencrypt`) seals it again under that key.
    const rotated = new Keyring([Buffer.from(K2, 'hex'), Buffer.from(K1, 'base64')]);
    const done = await sealSecretsAtRest(t.warden.db, rotated);
    assert.equal(done.idpSecrets, 1);
    const [again] = await t.warden.db.select().from(identityProviders).where(eq(identityProviders.id, p.id));
    const k2 = new Keyring([Buffer.from(K2, 'hex')]);
    assert.ok(k2.isCurrent(again!.clientSecret));
    assert.equal(k2.open(again!.clientSecret, sealedAt.idpClientSecret(p.id)), 'gh-secret');
  });

  it('the admin API names the failing field, refuses unknown fields, and never returns the secret', async () => {
    const admin = await createAdmin(t);
    const post = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/admin/identity-providers', headers: bearer(admin.access_token), payload });
    const unknownKind = await post({ kind: 'saml', name: 'X', client_id: 'a', client_secret: 'b' });
    assert.equal(unknownKind.statusCode, 422);
    assert.match(unknownKind.body, /kind/);
    const extra = await post({ kind: 'github', name: 'X', client_id: 'a', client_secret: 'b', secret_in_clear: 'x' });
    assert.equal(extra.statusCode, 422);
    const ghIssuer = await post({ kind: 'github', name: 'X', issuer: 'https://evil.example', client_id: 'a', client_secret: 'b' });
    assert.equal(ghIssuer.statusCode, 422);
    assert.equal(ghIssuer.json().errors[0].field, 'issuer');
    const created = await post({ kind: 'oidc', name: 'Corp', issuer: 'https://sso.example.com/', client_id: 'a', client_secret: 'b', scopes: 'email profile' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().issuer, 'https://sso.example.com');
    assert.equal(created.json().scopes, 'openid email profile');
    assert.ok(!('client_secret' in created.json()));
    const id = created.json().id as string;
    const patched = await t.app.inject({ method: 'PATCH', url: `/admin/identity-providers/${id}`, headers: bearer(admin.access_token), payload: { client_secret: 'new', name: 'Corp SSO' } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().name, 'Corp SSO');
    assert.ok(!('client_secret' in patched.json()));
    const [row] = await t.warden.db.select().from(identityProviders).where(eq(identityProviders.id, id));
    assert.equal(Keyring.fromConfig(t.config).open(row!.clientSecret, sealedAt.idpClientSecret(id)), 'new');
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin/identity-providers/not-a-uuid', headers: bearer(admin.access_token) })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'PATCH', url: `/admin/identity-providers/${id}`, headers: bearer(admin.access_token), payload: {} })).statusCode, 422);
  });
});
