import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { users } from '../../src/features/users/tables.js';
import { createTestApp, form, registerUser, tokensFor, type TestApp } from '../support/app.js';

describe('refresh_token grant (first-party)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await registerUser(t.app, 'alice');
  });
  after(() => t.close());

  const refresh = (token: string) => t.app.inject({ method: 'POST', url: '/token', ...form({ grant_type: 'refresh_token', refresh_token: token }) });

  it('regression: refresh with a cold user cache does not deadlock the single PGlite connection', { timeout: 20_000 }, async () => {
    const tokens = await tokensFor(t.app, 'alice');
    // No bearer request in between, so the user is not cached: the lookup must go through the
    // rotation's transaction, not beside it.
    const user = (await t.warden.users.list({ limit: 1 })).items[0]!;
    await t.warden.userCache.invalidate(user.id);
    const res = await refresh(tokens.refresh_token);
    assert.equal(res.statusCode, 200, res.body);
  });

  it('rotates: the new refresh token works, the old one is reuse and revokes the family', async () => {
    const first = await tokensFor(t.app, 'alice');
    const second = (await refresh(first.refresh_token)).json();
    assert.notEqual(second.refresh_token, first.refresh_token);
    t.clock.advance(10_000); // past REFRESH_REUSE_GRACE_SECONDS
    const replay = await refresh(first.refresh_token);
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error, 'invalid_grant');
    assert.equal((await refresh(second.refresh_token)).statusCode, 400, 'the family is revoked');
  });

  it('a retry of the same token within the grace window gets a fresh token, not a revoked session', async () => {
    const first = await tokensFor(t.app, 'alice');
    const [a, b] = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 200]);
    assert.equal((await refresh(a.json().refresh_token)).statusCode, 200);
  });

  it('refuses a disabled user without using the token up: once enabled again, it still works', async () => {
    const tokens = await tokensFor(t.app, 'alice');
    const user = (await t.warden.users.list({ limit: 1 })).items[0]!;
    // Only the flag (disabling through the API also revokes the tokens): the refresh itself must check it.
    const setDisabled = async (disabled: boolean) => {
      await t.warden.db.update(users).set({ disabled }).where(eq(users.id, user.id));
      await t.warden.userCache.invalidate(user.id);
    };
    await setDisabled(true);
    const refused = await refresh(tokens.refresh_token);
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error, 'invalid_grant');
    await setDisabled(false);
    t.clock.advance(10_000); // past the grace window, so a used-up token would now count as reuse
    assert.equal((await refresh(tokens.refresh_token)).statusCode, 200, 'the refused attempt did not consume the token');
  });

  it('refuses an unknown or expired refresh token', async () => {
    assert.equal((await refresh('wrt_nope')).json().error, 'invalid_grant');
    const tokens = await tokensFor(t.app, 'alice');
    t.clock.advance(31 * 86400_000);
    assert.equal((await refresh(tokens.refresh_token)).json().error, 'invalid_grant');
  });
});
