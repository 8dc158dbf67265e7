import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { Executor } from '../../../kernel/storage/database.js';
import { decodeCursor, encodeCursor } from '../../../kernel/storage/pagination.js';
import { items } from '../tables.js';
import { isUuid } from '../../users/repository.js';

export type ItemRow = typeof items.$inferSelect;

export async function insertItem(ex: Executor, v: { ownerId: string; title: string; description?: string | undefined; now: Date }) {
  const [row] = await ex
    .insert(items)
    .values({ ownerId: v.ownerId, title: v.title, description: v.description ?? null, createdAt: v.now, updatedAt: v.now })
    .returning();
  return row!;
}

/** An item, only when `ownerId` owns it (undefined owner: any item, for admins reading). */
export async function findItem(ex: Executor, id: string, ownerId: string | undefined) {
  if (!isUuid(id)) return undefined;
  const [row] = await ex
    .select()
    .from(items)
    .where(ownerId ? and(eq(items.id, id), eq(items.ownerId, ownerId)) : eq(items.id, id))
    .limit(1);
  return row;
}

export async function updateItem(ex: Executor, id: string, ownerId: string, patch: { title?: string | undefined; description?: string | null | undefined }, now: Date) {
  const [row] = await ex
    .update(items)
    .set({ ...patch, updatedAt: now })
    .where(and(eq(items.id, id), eq(items.ownerId, ownerId)))
    .returning();
  return row;
}

export async function deleteItem(ex: Executor, id: string, ownerId: string) {
  const rows = await ex
    .delete(items)
    .where(and(eq(items.id, id), eq(items.ownerId, ownerId)))
    .returning({ id: items.id });
  return rows.length > 0;
}

export async function listItems(ex: Executor, ownerId: string | undefined, limit: number, cursor?: string) {
  const conds: SQL[] = [];
  if (ownerId) conds.push(eq(items.ownerId, ownerId));
  const after = cursor ? decodeCursor(cursor) : undefined;
  if (after) conds.push(or(lt(items.createdAt, after.at), and(eq(items.createdAt, after.at), lt(items.id, after.id)))!);
  const rows = await ex
    .select()
    .from(items)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(items.createdAt), desc(items.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
}
