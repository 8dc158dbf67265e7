import { and, desc, eq, gt, gte, inArray, like, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../kernel/storage/database.js';
import { decodeCursor, encodeCursor } from '../../kernel/storage/pagination.js';
import { auditEvents } from './tables.js';
import { oauthClients } from '../oauth/tables.js';
import { users } from '../users/tables.js';

export type AuditRow = typeof auditEvents.$inferSelect;

export interface AuditQuery {
  /** Exact type, or a prefix ending in ".*" ("login.*"). */
  type?: string | undefined;
  actor?: string | undefined;
  subject?: string | undefined;
  ip?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  flagged?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

function typeCondition(type: string): SQL {
  if (type.endsWith('.*')) {
    const prefix = type.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
    return like(auditEvents.type, `${prefix}%`);
  }
  return eq(auditEvents.type, type);
}

/** Newest first, keyset-paginated on (at, id) so a page never skips or repeats an event while new ones arrive. */
export async function findAuditEvents(ex: Executor, q: AuditQuery): Promise<{ items: AuditRow[]; nextCursor: string | null }> {
  const conds: SQL[] = [];
  if (q.type) conds.push(typeCondition(q.type));
  if (q.actor) conds.push(eq(auditEvents.actorId, q.actor));
  if (q.subject) conds.push(eq(auditEvents.subjectId, q.subject));
  if (q.ip) conds.push(eq(auditEvents.ip, q.ip));
  if (q.from) conds.push(gte(auditEvents.at, q.from));
  if (q.to) conds.push(lte(auditEvents.at, q.to));
  if (q.flagged !== undefined) conds.push(eq(auditEvents.flagged, q.flagged));
  if (q.cursor) {
    const after = decodeCursor(q.cursor, 'integer');
    const id = Number(after.id);
    conds.push(or(lt(auditEvents.at, after.at), and(eq(auditEvents.at, after.at), lt(auditEvents.id, id)))!);
  }
  const rows = await ex
    .select()
    .from(auditEvents)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(q.limit + 1);
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > q.limit && last ? encodeCursor(last.at, last.id) : null };
}

/** Events written after `afterId` in insertion order (`warden audit tail --follow`). */
export async function auditEventsAfter(ex: Executor, afterId: number, type: string | undefined, limit: number): Promise<AuditRow[]> {
  const conds: SQL[] = [gt(auditEvents.id, afterId)];
  if (type) conds.push(typeCondition(type));
  return ex.select().from(auditEvents).where(and(...conds)).orderBy(auditEvents.id).limit(limit);
}

/**
 * Delete events older than `before`, in batches so a long backlog never holds one huge transaction
 * (or PGlite's single connection) for long. Returns how many were deleted.
 */
export async function pruneAuditEvents(ex: Executor, before: Date, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const ids = ex.select({ id: auditEvents.id }).from(auditEvents).where(lt(auditEvents.at, before)).limit(batch);
    const deleted = await ex.delete(auditEvents).where(inArray(auditEvents.id, ids)).returning({ id: auditEvents.id });
    total += deleted.length;
    if (deleted.length < batch) return total;
  }
}

export async function countAuditEvents(ex: Executor): Promise<number> {
  const [row] = await ex.select({ n: sql<number>`count(*)::int` }).from(auditEvents);
  return Number(row?.n ?? 0);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What the ids of these events name, for people reading the log: a user's username, a client's name.
 * Actors and subjects that are UUIDs are looked up as users, the others (and `details.client_id`) as
 * clients. A deleted user or client has no name here; the id stays on the event.
 */
export async function auditEventNames(ex: Executor, rows: readonly AuditRow[]): Promise<Map<string, string>> {
  const userIds = new Set<string>();
  const clientIds = new Set<string>();
  for (const r of rows) {
    for (const id of [r.actorId, r.subjectId]) if (id) (UUID.test(id) ? userIds : clientIds).add(id);
    const client = (r.details as Record<string, unknown> | null)?.client_id;
    if (typeof client === 'string') clientIds.add(client);
  }
  const names = new Map<string, string>();
  if (userIds.size) {
    for (const u of await ex.select({ id: users.id, username: users.username }).from(users).where(inArray(users.id, [...userIds]))) names.set(u.id, u.username);
  }
  if (clientIds.size) {
    const found = await ex.select({ id: oauthClients.clientId, name: oauthClients.clientName }).from(oauthClients).where(inArray(oauthClients.clientId, [...clientIds]));
    for (const c of found) names.set(c.id, c.name);
  }
  return names;
}
