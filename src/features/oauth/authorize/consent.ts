import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../../kernel/storage/database.js';
import { consents } from '../tables.js';
import { parseScope } from '../scopes.js';

/** Scopes the user already granted this client (remembered consent). */
export async function grantedScopes(ex: Executor, userId: string, clientId: string): Promise<string[]> {
  const [row] = await ex.select().from(consents).where(and(eq(consents.userId, userId), eq(consents.clientId, clientId))).limit(1);
  return row ? parseScope(row.scope) : [];
}

/** Remember a grant; it adds to what was granted before. */
export async function rememberConsent(ex: Executor, userId: string, clientId: string, scopes: string[], now: Date) {
  const scope = [...new Set([...(await grantedScopes(ex, userId, clientId)), ...scopes])].join(' ');
  await ex
    .insert(consents)
    .values({ userId, clientId, scope, createdAt: now })
    .onConflictDoUpdate({ target: [consents.userId, consents.clientId], set: { scope, createdAt: now } });
}

/**
 * RFC 8252 §8.6: a private-use URI scheme (`com.example.app:/cb`) can be claimed by any app on the
 * device, so the server cannot tell that the code reaches the client it names. For a public client
 * redirecting there the user must act on every authorization (a confirmation page, even after an
 * earlier consent): a silent answer would hand a code to whichever app took the scheme. Loopback
 * and https redirects are bound to the client by the network or the domain and keep remembered consent.
 */
export function needsInteractionEveryTime(client: { type: string }, redirectUri: string): boolean {
  if (client.type !== 'public') return false;
  const scheme = redirectUri.slice(0, Math.max(0, redirectUri.indexOf(':'))).toLowerCase();
  return scheme !== 'http' && scheme !== 'https';
}
