import type { Clock } from '../../../kernel/clock.js';
import { notFound } from '../../../kernel/errors.js';
import type { Db } from '../../../kernel/storage/database.js';
import type { UserRecord } from '../../users/repository.js';
import { can } from '../../access/roles.js';
import { deleteItem, findItem, insertItem, listItems, updateItem, type ItemRow } from './repository.js';

export function toItemOut(i: ItemRow) {
  return { id: i.id, title: i.title, description: i.description, owner_id: i.ownerId, created_at: i.createdAt.toISOString() };
}

/**
 * Items belong to users. Every lookup is scoped by owner in the query itself, so another user's item is
 * indistinguishable from a missing one (404, not 403: no existence oracle). Admins may read any item.
 */
export class ItemsService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  create(user: UserRecord, title: string, description?: string) {
    return insertItem(this.db, { ownerId: user.id, title, description, now: new Date(this.clock.now()) });
  }

  async read(user: UserRecord, id: string) {
    const item = await findItem(this.db, id, can(user.roles, 'items:read-any') ? undefined : user.id);
    if (!item) throw notFound('no such item');
    return item;
  }

  list(user: UserRecord, limit: number, cursor?: string) {
    return listItems(this.db, user.id, limit, cursor);
  }

  async update(user: UserRecord, id: string, patch: { title?: string | undefined; description?: string | null | undefined }) {
    const item = await updateItem(this.db, id, user.id, patch, new Date(this.clock.now()));
    if (!item) throw notFound('no such item');
    return item;
  }

  async remove(user: UserRecord, id: string) {
    if (!(await deleteItem(this.db, id, user.id))) throw notFound('no such item');
  }
}
