import type { TestApp } from '../support/app.js';
import { authorizeCode, exchangeCode, pkce, registerClient } from '../oauth/support.js';

/**
 * A user's access token obtained by a client through the code flow (login, consent), for `scope`.
 * `firstParty` registers the client as Warden's own; otherwise it is a third party, registered with every
 * scope (the default), `account` and `admin` included.
 */
export async function codeFlowToken(
  t: TestApp,
  adminToken: string,
  opts: { username: string; password: string; scope: string; firstParty?: boolean },
): Promise<{ status: number; body: Record<string, string>; clientId: string; location: URL }> {
  const redirectUri = 'https://app.example.com/cb';
  const client = await registerClient(t, adminToken, {
    client_name: opts.firstParty ? 'Own app' : 'Third party',
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
    first_party: opts.firstParty ?? false,
  });
  const { verifier, challenge } = pkce();
  const location = await authorizeCode(t.app, { clientId: client.client_id, redirectUri, scope: opts.scope, challenge, username: opts.username, password: opts.password });
  const code = location.searchParams.get('code');
  if (!code) return { status: 0, body: Object.fromEntries(location.searchParams), clientId: client.client_id, location };
  const res = await exchangeCode(t.app, { code, redirect_uri: redirectUri, client_id: client.client_id, code_verifier: verifier });
  return { status: res.statusCode, body: res.json(), clientId: client.client_id, location };
}
