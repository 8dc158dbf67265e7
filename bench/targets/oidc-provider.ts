/**
 * The comparison server: node-oidc-provider (the certified Node implementation), configured as a team
 * would for machine-to-machine tokens: client_credentials, RS256 JWT access tokens for a resource
 * server (resource indicators), introspection. In-memory adapter (its fastest storage). Prints
 * {"port"} when listening on 127.0.0.1.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

export const OIDC_CLIENT = { client_id: 'bench', client_secret: 'bench-secret-0123456789abcdef0123456789abcdef' };
export const OIDC_RESOURCE = 'https://api.bench.local';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'rs1', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{ ...OIDC_CLIENT, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'api' }],
  jwks: { keys: [jwk as never] },
  scopes: ['api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No resource asked: an opaque token (introspectable); the resource asked: an RS256 JWT.
      defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
      getResourceServerInfo: () => ({ scope: 'api', audience: OIDC_RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
      useGrantedResource: () => true,
    },
  },
});
provider.on('server_error', (_ctx: unknown, err: Error) => process.stderr.write(`oidc-provider: ${err.message}\n`));
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ port })}\n`);
