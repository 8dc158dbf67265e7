import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../storage/database.js';
import { consents } from '../../storage/schema.js';
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
