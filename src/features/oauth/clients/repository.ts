import { and, desc, eq, lt, or } from 'drizzle-orm';
import type { Executor } from '../../../kernel/storage/database.js';
import { decodeCursor, encodeCursor } from '../../../kernel/storage/pagination.js';
import { authorizationCodes, consents, oauthClients } from '../tables.js';
import { refreshTokens } from '../../tokens/tables.js';

export type ClientRow = typeof oauthClients.$inferSelect;
export type NewClientRow = typeof oauthClients.$inferInsert;

export async function insertClient(ex: Executor, row: NewClientRow): Promise<ClientRow> {
  const [inserted] = await ex.insert(oauthClients).values(row).returning();
  return inserted!;
}

export async function findClient(ex: Executor, clientId: string): Promise<ClientRow | undefined> {
  const [row] = await ex.select().from(oauthClients).where(eq(oauthClients.clientId, clientId)).limit(1);
  return row;
}

export async function setClientSecret(ex: Executor, clientId: string, secretHash: string, now: Date): Promise<ClientRow | undefined> {
  const [row] = await ex
    .update(oauthClients)
    .set({ secretHash, secretRotatedAt: now })
    .where(eq(oauthClients.clientId, clientId))
    .returning();
  return row;
}

export async function setClientResources(ex: Executor, clientId: string, resources: Record<string, string[]>): Promise<ClientRow | undefined> {
  const [row] = await ex.update(oauthClients).set({ resources }).where(eq(oauthClients.clientId, clientId)).returning();
  return row;
}

export async function setClientLogout(
  ex: Executor,
  clientId: string,
  set: Partial<Pick<NewClientRow, 'postLogoutRedirectUris' | 'backchannelLogoutUri' | 'backchannelLogoutSessionRequired'>>,
): Promise<ClientRow | undefined> {
  const [row] = await ex.update(oauthClients).set(set).where(eq(oauthClients.clientId, clientId)).returning();
  return row;
}

/** A deleted client leaves nothing usable behind: its refresh tokens, pending codes and consents go with it. */
export async function deleteClient(ex: Executor, clientId: string): Promise<boolean> {
  await ex.delete(refreshTokens).where(eq(refreshTokens.clientId, clientId));
  await ex.delete(authorizationCodes).where(eq(authorizationCodes.clientId, clientId));
  await ex.delete(consents).where(eq(consents.clientId, clientId));
  const rows = await ex.delete(oauthClients).where(eq(oauthClients.clientId, clientId)).returning({ id: oauthClients.clientId });
  return rows.length > 0;
}

/** Newest first, keyset-paginated on (created_at, client_id). */
export async function listClients(ex: Executor, q: { limit: number; cursor?: string | undefined }): Promise<{ items: ClientRow[]; nextCursor: string | null }> {
  const after = q.cursor ? decodeCursor(q.cursor, 'text') : undefined;
  const rows = await ex
    .select()
    .from(oauthClients)
    .where(after ? or(lt(oauthClients.createdAt, after.at), and(eq(oauthClients.createdAt, after.at), lt(oauthClients.clientId, after.id))) : undefined)
    .orderBy(desc(oauthClients.createdAt), desc(oauthClients.clientId))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.clientId) : null };
}
