import { badRequest } from '../http/errors.js';

/** Opaque keyset cursor: the (created_at, id) of the last row of a page. */
export function encodeCursor(at: Date, id: string | number): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [iso, id, extra] = text.split('|');
  const at = iso ? new Date(iso) : new Date(NaN);
  if (!id || extra !== undefined || Number.isNaN(at.getTime()) || !/^[0-9a-zA-Z-]{1,64}$/.test(id)) {
    throw badRequest('invalid_cursor', 'cursor is not one this server handed out', [{ field: 'cursor', message: 'invalid cursor' }]);
  }
  return { at, id };
}
