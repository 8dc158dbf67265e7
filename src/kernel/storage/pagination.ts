import { badRequest } from '../errors.js';
import { unstorableText } from './errors.js';

/** Opaque keyset cursor: the (created_at, id) of the last row of a page. */
export function encodeCursor(at: Date, id: string | number): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

/** What the keyset column holds, so a cursor's id is one the column can compare with. */
export type CursorId = 'uuid' | 'integer' | 'text';

const ID: Record<CursorId, RegExp> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  // bigserial: 1 .. 2^63-1 has at most 19 digits; Number() is exact up to 2^53, far beyond any row count.
  integer: /^[1-9][0-9]{0,15}$/,
  text: /^[^|]{1,200}$/,
};
/** What encodeCursor writes: toISOString() of a date PostgreSQL's timestamptz can hold. */
const ISO = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A cursor is client input: one that this server did not hand out (edited, truncated, another list's)
 * is refused with 400 naming `cursor`, never passed on for the database to reject as a 500.
 */
export function decodeCursor(cursor: string, kind: CursorId = 'uuid'): { at: Date; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const iso = bar < 0 ? '' : text.slice(0, bar);
  const id = bar < 0 ? '' : text.slice(bar + 1);
  const at = new Date(iso);
  const valid = ISO.test(iso) && !Number.isNaN(at.getTime()) && at.toISOString() === iso && ID[kind].test(id) && !unstorableText(id);
  if (!valid) throw badRequest('invalid_cursor', 'cursor is not one this server handed out', [{ field: 'cursor', message: 'invalid cursor' }]);
  return { at, id };
}
