import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { and, count, eq, gt, isNull, lt, or, isNotNull } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../audit/audit-log.js';
import { newSignInMail } from '../mail/templates.js';
import type { Executor } from '../../kernel/storage/database.js';
import { knownDevices, sessionEndLinks } from './tables.js';
import { hashToken, newOpaqueToken } from '../../kernel/secrets.js';
import type { UserRecord } from '../users/repository.js';
import type { Warden } from '../../kernel/warden.js';
import { endUserSession } from './self-service.js';

/**
 * Mail on a sign-in from a device not seen before for this user (NEW_DEVICE_MAIL, docs/sessions.md),
 * with a single-use link that ends that session.
 *
 * A device is:
 * - in a browser (the /authorize sign-in, the account page): a long-lived random cookie
 *   (`warden_device`, 400 days, HttpOnly), set on the first sign-in from that browser;
 * - for an API login (the password grant): the user agent with the IP address's network (IPv4 /24,
 *   IPv6 /48), so a phone app moving between addresses of one network stays one device.
 * Only a SHA-256 of the key is stored (known_devices). A user's first sign-in ever only records its
 * device: there is nothing to compare it with, and the account was just created by that device.
 */

export const DEVICE_COOKIE = 'warden_device';
const DEVICE_COOKIE_DAYS = 400;
/** How long the mailed "end this session" link works. */
export const END_LINK_HOURS = 72;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** IPv4 /24 or IPv6 /48 of an address; the address itself when it is not one. */
export function ipPrefix(ip: string | undefined): string {
  if (!ip) return '';
  const v4 = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(v4) === 4) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIP(ip) === 6) {
    const [head = '', tail = ''] = ip.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
    return `${groups.slice(0, 3).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/48`;
  }
  return ip;
}

/** The device key of an API login: user agent and IP network. */
export function apiDeviceKey(ctx: RequestContext): string {
  return `api\n${ctx.userAgent ?? ''}\n${ipPrefix(ctx.ip)}`;
}

/** The device key of a browser: its device cookie, set now when the browser has none (or a malformed one). */
export function browserDeviceKey(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const name = secure ? `__Host-${DEVICE_COOKIE}` : DEVICE_COOKIE;
  let value = request.cookies[name];
  if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
    value = randomBytes(32).toString('base64url');
    reply.setCookie(name, value, { path: '/', httpOnly: true, secure, sameSite: 'lax', maxAge: DEVICE_COOKIE_DAYS * 86400 });
  }
  return `browser\n${value}`;
}

/**
 * Record the device of a sign-in; answers whether it is new for a user who had signed in from another
 * device before (then a mail is due).
 */
export async function rememberDevice(ex: Executor, userId: string, deviceKey: string, now: Date): Promise<boolean> {
  const deviceHash = sha256(deviceKey);
  const inserted = await ex.insert(knownDevices).values({ userId, deviceHash, firstSeenAt: now, lastSeenAt: now }).onConflictDoNothing().returning({ userId: knownDevices.userId });
  if (!inserted.length) {
    await ex.update(knownDevices).set({ lastSeenAt: now }).where(and(eq(knownDevices.userId, userId), eq(knownDevices.deviceHash, deviceHash)));
    return false;
  }
  const [row] = await ex.select({ n: count() }).from(knownDevices).where(eq(knownDevices.userId, userId));
  return Number(row?.n ?? 0) > 1;
}

/**
 * After a sign-in has started session `sid`: remember the device and, when it is new (and
 * NEW_DEVICE_MAIL is on, and the address is verified), mail the user with a link that ends that
 * session. Never fails the sign-in: a problem here is logged by the caller's logger and swallowed.
 */
export async function signInFromDevice(
  w: Warden,
  p: { user: UserRecord; sid: string; deviceKey: string; method: string; ctx: RequestContext },
  log?: { error(obj: object, msg: string): void },
): Promise<void> {
  try {
    const now = new Date(w.clock.now());
    const isNew = await rememberDevice(w.db, p.user.id, p.deviceKey, now);
    if (!isNew || !w.config.NEW_DEVICE_MAIL) return;
    // As for reset links: an unverified address may be a typo, someone else's (src/features/account/password-reset.ts).
    if (!p.user.emailVerified) return;
    const token = newOpaqueToken('wend_');
    await w.db.transaction(async (tx) => {
      await tx.insert(sessionEndLinks).values({
        tokenHash: hashToken(token),
        sid: p.sid,
        userId: p.user.id,
        createdAt: now,
        expiresAt: new Date(now.getTime() + END_LINK_HOURS * 3600_000),
      });
      await w.audit.record(tx, { type: 'session.new_device', actorId: p.user.id, subjectId: p.user.id, details: { sid: p.sid, method: p.method } }, p.ctx);
    });
    const link = `${w.config.publicUrl}/sessions/end?token=${encodeURIComponent(token)}`;
    w.mailer.send(newSignInMail(p.user, { at: now, ip: p.ctx.ip, userAgent: p.ctx.userAgent, method: p.method }, link, END_LINK_HOURS));
  } catch (err) {
    log?.error({ err }, 'new-device check failed');
  }
}

/** Is this mailed link still good (unused, unexpired)? Opening the page never uses it up. */
export async function endLinkValid(w: Warden, token: string): Promise<boolean> {
  const [row] = await w.db
    .select({ sid: sessionEndLinks.sid })
    .from(sessionEndLinks)
    .where(and(eq(sessionEndLinks.tokenHash, hashToken(token)), isNull(sessionEndLinks.usedAt), gt(sessionEndLinks.expiresAt, new Date(w.clock.now()))))
    .limit(1);
  return row !== undefined;
}

/**
 * Use the mailed link: once, before it expires. Ends its session (if still live) through the same path
 * as the user's own "end this session". 'used' for an unknown, used or expired link.
 */
export async function endSessionByLink(w: Warden, token: string, ctx: RequestContext): Promise<'ended' | 'already_ended' | 'used'> {
  const now = new Date(w.clock.now());
  const [row] = await w.db
    .update(sessionEndLinks)
    .set({ usedAt: now })
    .where(and(eq(sessionEndLinks.tokenHash, hashToken(token)), isNull(sessionEndLinks.usedAt), gt(sessionEndLinks.expiresAt, now)))
    .returning({ sid: sessionEndLinks.sid, userId: sessionEndLinks.userId });
  if (!row) return 'used';
  try {
    await endUserSession(w, row.userId, row.sid, { by: 'mail_link' }, { ...ctx, actorId: row.userId });
    return 'ended';
  } catch {
    // The session had already ended (signed out, expired, ended elsewhere): nothing left to do.
    return 'already_ended';
  }
}

/** Links past their expiry or used, and devices unseen for longer than a refresh token lives. */
export async function pruneNewDeviceRows(ex: Executor, now: Date, refreshSeconds: number) {
  await ex.delete(sessionEndLinks).where(or(lt(sessionEndLinks.expiresAt, now), isNotNull(sessionEndLinks.usedAt)));
  await ex.delete(knownDevices).where(lt(knownDevices.lastSeenAt, new Date(now.getTime() - Math.max(refreshSeconds * 1000, 400 * 86400_000))));
}
