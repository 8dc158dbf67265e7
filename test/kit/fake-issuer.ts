import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newKey(kid: string, alg: 'EdDSA' | 'ES256' = 'EdDSA'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/**
 * A stand-in for Warden's discovery, JWKS and introspection endpoints over a real socket, counting what
 * the verifier asks (the kit's unit tests; the end-to-end tests use a real Warden).
 */
export class FakeIssuer {
  readonly keys: SigningKey[] = [];
  jwksRequests = 0;
  introspections = 0;
  /** jti → active; anything else is inactive. */
  readonly active = new Set<string>();
  readonly clients = new Map<string, string>();
  issuer = '';
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.url === '/.well-known/openid-configuration') {
        return json(200, { issuer: this.issuer, jwks_uri: `${this.issuer}/jwks`, introspection_endpoint: `${this.issuer}/introspect` });
      }
      if (req.url === '/jwks') {
        this.jwksRequests++;
        return json(200, { keys: this.keys.map((k) => k.publicJwk) });
      }
      if (req.url === '/introspect' && req.method === 'POST') {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          this.introspections++;
          const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
          if (!id || this.clients.get(decodeURIComponent(id)) !== decodeURIComponent(secret ?? '')) return json(401, { error: 'invalid_client' });
          const token = new URLSearchParams(body).get('token') ?? '';
          const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}') as JWTPayload;
          json(200, this.active.has(payload.jti ?? '') ? { active: true, sub: payload.sub, scope: payload.scope } : { active: false });
        });
        return;
      }
      json(404, {});
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** A Warden-shaped access token (RFC 9068), signed by `key`, with `over` changing any part of it. */
  async token(
    key: SigningKey,
    nowS: number,
    over: { claims?: JWTPayload; header?: Record<string, unknown>; aud?: string; ttl?: number; iss?: string } = {},
  ): Promise<string> {
    return new SignJWT({ scope: 'orders:read', roles: ['user'], client_id: 'wc-app', jti: `jti-${Math.random()}`, ...over.claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...over.header })
      .setIssuer(over.iss ?? this.issuer)
      .setAudience(over.aud ?? 'https://orders.example')
      .setSubject('user-1')
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + (over.ttl ?? 900))
      .sign(key.privateKey);
  }
}
