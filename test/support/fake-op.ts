import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/**
 * A scriptable upstream OP for the cases a real one will not produce: its token endpoint answers with
 * an id_token whose issuer or nonce the test chooses (a token from another issuer, a replayed nonce).
 */
export async function fakeProvider() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'fake1', alg: 'RS256', use: 'sig' };
  const next: { iss?: string; nonce?: string; sub?: string; email?: string } = {};
  let base = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, base);
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json({
        issuer: base,
        authorization_endpoint: `${base}/auth`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (url.pathname === '/jwks') return json({ keys: [jwk] });
    if (url.pathname === '/token') {
      req.resume();
      req.on('end', async () => {
        const now = Math.floor(Date.now() / 1000);
        const idToken = await new SignJWT({ nonce: next.nonce, email: next.email ?? 'eve@upstream.test', email_verified: true })
          .setProtectedHeader({ alg: 'RS256', kid: 'fake1' })
          .setIssuer(next.iss ?? base)
          .setAudience('fake-client')
          .setSubject(next.sub ?? 'eve')
          .setIssuedAt(now)
          .setExpirationTime(now + 300)
          .sign(privateKey);
        json({ access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken });
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, next, close: () => new Promise((r) => server.close(r)) };
}
