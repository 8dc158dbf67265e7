/**
 * An upstream identity provider for the federation tests: node-oidc-provider (the certified Node OP)
 * in its own process, with one confidential client and three accounts, its dev interactions (a login
 * form that takes any password for a known login, then a consent form). Prints {"port", "issuer"} when
 * listening on 127.0.0.1.
 *
 * Settings (environment): UPSTREAM_PORT (0: any), UPSTREAM_REDIRECT_URI (Warden's /federation/{id}/callback; more than one
 * comma-separated). The accounts:
 * - `alice`: alice@upstream.test, verified (no Warden account has it: a new account is made);
 * - `carol`: carol@example.com, verified (a Warden account holds it: linked after its password);
 * - `mallory`: victim@example.com, NOT verified (a Warden account holds it: refused).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

export const UPSTREAM_CLIENT = { client_id: 'warden-test', client_secret: 'upstream-secret-0123456789abcdef0123456789abcdef' };

const ACCOUNTS: Record<string, { email: string; email_verified: boolean; name: string }> = {
  alice: { email: 'alice@upstream.test', email_verified: true, name: 'Alice Upstream' },
  carol: { email: 'carol@example.com', email_verified: true, name: 'Carol Upstream' },
  mallory: { email: 'victim@example.com', email_verified: false, name: 'Mallory' },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'up1', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise<void>((resolve) => server.listen(Number(process.env.UPSTREAM_PORT) || 0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      ...UPSTREAM_CLIENT,
      redirect_uris: (process.env.UPSTREAM_REDIRECT_URI ?? '').split(',').filter(Boolean),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk as never] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  // The id_token carries the claims (not only userinfo), as many providers do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(_ctx: unknown, id: string) {
    const a = ACCOUNTS[id];
    if (!a) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, ...a }) };
  },
});
provider.on('server_error', (_ctx: unknown, err: Error) => process.stderr.write(`oidc-provider: ${err.message}\n`));
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ port, issuer })}\n`);
