import type { FastifyRequest } from 'fastify';
import { invalidClient, invalidRequest } from '../../kernel/errors.js';
import { unstorableText } from '../../kernel/storage/errors.js';
import type { Warden } from '../../kernel/warden.js';
import type { OAuthClient } from './clients/service.js';
import type { TokenClient, TokenParams } from './grant.js';

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64 ('+' is a space). */
function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) throw invalidClient('malformed Authorization header');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  // Swagger UI's password flow sends `Basic Og==` (":") when no client is configured: that is no
  // client at all (the anonymous first-party password grant), as FastAPI's token routes treat it.
  if (decoded === ':') return undefined;
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('malformed Basic credentials');
  let id: string, secret: string;
  try {
    [id, secret] = [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))];
  } catch {
    throw invalidClient('malformed Basic credentials');
  }
  // A header is input the body's guard (validation.ts) never sees: NUL or a lone surrogate cannot be a client id.
  if (unstorableText(id) || unstorableText(secret)) throw invalidClient('malformed Basic credentials');
  return { id, secret };
}

export function tokenClient(c: OAuthClient, authenticated: boolean): TokenClient {
  return { clientId: c.clientId, type: c.type, firstParty: c.firstParty, grantTypes: c.grantTypes, scope: c.scope, resources: c.resources, authenticated };
}

/**
 * Client authentication at /token, /revoke and /introspect (RFC 6749 §2.3): client_secret_basic,
 * client_secret_post, or none for a public client (client_id only). A confidential client must prove
 * its secret by either method; one method per request (§2.3). No client at all returns undefined —
 * the first-party anonymous password grant — and each endpoint decides whether that is enough.
 */
export async function authenticateClient(request: FastifyRequest, params: TokenParams, w: Warden): Promise<TokenClient | undefined> {
  const basic = basicCredentials(request.headers.authorization);
  if (basic && params.client_secret !== undefined) throw invalidRequest('use one client authentication method, not both');
  if (basic && params.client_id !== undefined && params.client_id !== basic.id) throw invalidRequest('client_id does not match the Authorization header');
  const clientId = basic?.id ?? params.client_id;
  const secret = basic?.secret ?? params.client_secret;
  if (clientId === undefined || clientId === '') {
    if (secret !== undefined) throw invalidClient('client_secret without client_id');
    return undefined;
  }
  const client = await w.clients.find(clientId);
  // Unknown client, wrong secret and missing secret answer alike.
  if (!client) throw invalidClient();
  if (client.type === 'public') {
    if (secret !== undefined && secret !== '') throw invalidClient('a public client has no secret');
    return tokenClient(client, false);
  }
  if (secret === undefined || !w.clients.secretMatches(client, secret)) throw invalidClient();
  return tokenClient(client, true);
}
