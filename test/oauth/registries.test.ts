import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OAuthError } from '../../src/kernel/errors.js';
import { buildApp, type App } from '../../src/app/app.js';
import { createTestApp, form, passwordLogin, registerUser, type TestApp } from '../support/app.js';

const token = (app: App, params: Record<string, string>) => app.inject({ method: 'POST', url: '/token', ...form(params) });
const grantsOf = async (app: App) => ((await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json() as { grant_types_supported: string[] }).grant_types_supported;

/**
 * Issue 14: the token endpoint's extension points (grant types, password-grant steps, token-response
 * hooks, client authentication) belong to one app. Two apps in one process, with different settings or
 * on one Warden, never see each other's registrations.
 */
describe('per-app OAuth registries', () => {
  let a: TestApp;
  let b: TestApp;
  /** A second app on a's services (same database, same Warden): only the registry differs. */
  let c: App;

  before(async () => {
    b = await createTestApp({ env: { PASSWORD_GRANT: 'disabled' } });
    a = await createTestApp();
    c = await buildApp(a.config, { warden: a.warden });
    await c.ready();
    await registerUser(a.app, 'alice');
  });
  after(async () => {
    await c.close();
    await a.close();
    await b.close();
  });

  it('the MFA grant is registered by the app whose password grant is on, not by the one built without it', async () => {
    assert.ok(a.app.oauth.grantTypes().includes('urn:warden:mfa'));
    assert.ok(!b.app.oauth.grantTypes().includes('urn:warden:mfa'));
    assert.ok((await grantsOf(a.app)).includes('urn:warden:mfa'));
    assert.deepEqual(
      (await grantsOf(b.app)).filter((g) => g === 'urn:warden:mfa' || g === 'password'),
      [],
    );
    const onA = await token(a.app, { grant_type: 'urn:warden:mfa', code: '123456' });
    assert.deepEqual([onA.statusCode, onA.json().error], [400, 'invalid_request']);
    const onB = await token(b.app, { grant_type: 'urn:warden:mfa', code: '123456' });
    assert.deepEqual([onB.statusCode, onB.json().error], [400, 'unsupported_grant_type']);
    // Both still have the grants every app has, and the OAuth plugin's.
    for (const t of [a.app, b.app, c]) {
      assert.deepEqual(
        t.oauth.grantTypes().filter((g) => g !== 'urn:warden:mfa'),
        ['password', 'refresh_token', 'authorization_code', 'client_credentials'],
      );
    }
  });

  it('a token-response extension registered into one app changes that app’s answers only', async () => {
    a.app.oauth.addTokenResponseExtension(async (_w, _req, res) => {
      res.id_token = 'added-by-app-a';
    });
    const onA = await passwordLogin(a.app, 'alice');
    assert.equal(onA.json().id_token, 'added-by-app-a');
    const onC = await passwordLogin(c, 'alice');
    assert.equal(onC.statusCode, 200, onC.body);
    assert.equal(onC.json().id_token, undefined);
  });

  it('a password-grant step registered into one app interrupts that app’s password grant only', async () => {
    a.app.oauth.addPasswordGrantStep(async () => {
      throw new OAuthError('access_denied', 'refused by a step of app a');
    });
    const onA = await passwordLogin(a.app, 'alice');
    assert.deepEqual([onA.statusCode, onA.json().error], [400, 'access_denied']);
    assert.equal((await passwordLogin(c, 'alice')).statusCode, 200);
  });

  it('a grant type registered into one app is unknown to the other; registering one twice is refused', async () => {
    a.app.oauth.registerGrantType('urn:example:ping', async () => ({ access_token: 'pong', token_type: 'Bearer', expires_in: 1 }));
    const onA = await token(a.app, { grant_type: 'urn:example:ping' });
    assert.equal(onA.statusCode, 200, onA.body);
    assert.equal(onA.json().access_token, 'pong');
    const onC = await token(c, { grant_type: 'urn:example:ping' });
    assert.deepEqual([onC.statusCode, onC.json().error], [400, 'unsupported_grant_type']);
    assert.ok(!(await grantsOf(c)).includes('urn:example:ping'));
    assert.throws(() => a.app.oauth.registerGrantType('password', async () => ({ access_token: 'x', token_type: 'Bearer', expires_in: 1 })), /registered twice/);
  });
});
