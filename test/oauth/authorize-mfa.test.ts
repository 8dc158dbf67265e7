import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticator } from 'otplib';
import { createTestApp, registerUser, STRONG_PASSWORD, type TestApp } from '../support/app.js';
import { eq } from 'drizzle-orm';
import { sessions } from '../../src/features/sessions/tables.js';
import { findUserByLogin } from '../../src/features/users/repository.js';
import { adminToken, authorizeUrl, basic, exchangeCode, formFields, getPage, Jar, pkce, postForm, registerClient, type RegisteredClient } from './support.js';

const REDIRECT = 'https://app.example.com/cb';

describe('/authorize with a second factor', () => {
  let t: TestApp;
  let client: RegisteredClient;
  let secret: string;
  const totp = () => authenticator.clone({ epoch: t.clock.now() }).generate(secret);

  before(async () => {
    t = await createTestApp();
    client = await registerClient(t, await adminToken(t), { client_name: 'First', redirect_uris: [REDIRECT], first_party: true });
    await registerUser(t.app, 'mia');
    const user = (await findUserByLogin(t.warden.db, 'mia'))!;
    secret = (await t.warden.mfa.beginEnrolment(user)).secret;
    await t.warden.mfa.confirmEnrolment(user, totp(), {});
    t.clock.advance(31_000);
  });
  after(() => t.close());

  async function startLogin(jar: Jar, challenge = pkce().challenge) {
    const page = await getPage(t.app, jar, authorizeUrl({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT, scope: 'openid', state: 'st', code_challenge: challenge, code_challenge_method: 'S256' }));
    return postForm(t.app, jar, { ...formFields(page.body), username: 'mia', password: STRONG_PASSWORD });
  }

  it('asks for the code after the password; no session until it is right; a first-party client skips consent', async () => {
    const jar = new Jar();
    const { challenge, verifier } = pkce();
    const mfa = await startLogin(jar, challenge);
    assert.equal(mfa.statusCode, 200);
    assert.equal(formFields(mfa.body).action, 'mfa');
    assert.ok(![...jar.cookies.keys()].some((k) => k.includes('session')), 'the password alone does not sign in');
    const wrong = await postForm(t.app, jar, { ...formFields(mfa.body), code: '000000' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /not valid/);
    const ok = await postForm(t.app, jar, { ...formFields(wrong.body), code: totp() });
    assert.equal(ok.statusCode, 303, ok.body);
    const cb = new URL(ok.headers.location as string);
    assert.ok(cb.searchParams.get('code'));
    assert.equal(cb.searchParams.get('state'), 'st');
    // Issue 18: the id_token says how: amr pwd + otp, acr "2".
    const res = await exchangeCode(
      t.app,
      { code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier },
      basic(client.client_id, client.client_secret!),
    );
    assert.equal(res.statusCode, 200, res.body);
    const idt = JSON.parse(Buffer.from((res.json().id_token as string).split('.')[1]!, 'base64url').toString());
    assert.deepEqual(idt.amr, ['pwd', 'otp']);
    assert.equal(idt.acr, '2');
  });

  it('issue 13: a sign-in waiting for its second factor does not survive a force logout (no session is started)', async () => {
    t.clock.advance(31_000);
    const jar = new Jar();
    const mfa = await startLogin(jar);
    assert.equal(formFields(mfa.body).action, 'mfa');
    const user = (await findUserByLogin(t.warden.db, 'mia'))!;
    const sessionsBefore = (await t.warden.db.select().from(sessions).where(eq(sessions.userId, user.id))).length;
    t.clock.advance(1000);
    await t.warden.users.forceLogout(null, user.id, {});
    t.clock.advance(1000);
    const res = await postForm(t.app, jar, { ...formFields(mfa.body), code: totp() });
    assert.equal(res.statusCode, 200);
    assert.equal(formFields(res.body).action, 'login', 'back to the login page');
    assert.equal((await t.warden.db.select().from(sessions).where(eq(sessions.userId, user.id))).length, sessionsBefore);
  });

  it('the MFA form cannot be skipped by posting consent or login steps around it', async () => {
    t.clock.advance(31_000);
    const jar = new Jar();
    const mfa = await startLogin(jar);
    const skip = await postForm(t.app, jar, { ...formFields(mfa.body), action: 'consent', decision: 'allow' });
    assert.equal(skip.statusCode, 200);
    assert.equal(formFields(skip.body).action, 'mfa', 'still asking for the code');
  });
});
