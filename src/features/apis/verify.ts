import { TokenError } from '../tokens/jwt.js';
import type { AccessClaims } from '../tokens/access-token.js';
import type { Warden } from '../../kernel/warden.js';

/**
 * An access token of any registered API (introspection and revocation answer for all of them, RFC 8707),
 * or undefined. Warden's own audience goes through the verification cache first; another API's token is
 * verified without it, since that cache is what Warden's own routes trust.
 */
export async function verifyForAnyApi(w: Warden, token: string): Promise<AccessClaims | undefined> {
  try {
    return await w.accessTokens.verify(token);
  } catch (e) {
    if (!(e instanceof TokenError)) throw e;
  }
  const others = w.catalog.apis().filter((a) => !a.builtIn);
  if (!others.length) return undefined;
  try {
    return await w.accessTokens.verifyForAudiences(token, others.map((a) => a.identifier), w.catalog.longestTtlSeconds(w.config.accessTokenTtlSeconds));
  } catch (e) {
    if (e instanceof TokenError) return undefined;
    throw e;
  }
}
