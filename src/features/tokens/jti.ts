import { randomUUID } from 'node:crypto';

/**
 * RFC 9562 UUIDv7: the first 48 bits are the issue time in milliseconds. Access tokens use it as `jti`,
 * so "issued before the user's sessions were ended" is decided to the millisecond, not the second of `iat`.
 *
 * Built on a v4 UUID from node's buffered generator (randomUUID draws from a pre-filled pool, where
 * `randomBytes(16)` goes to OpenSSL on every call): its first 48 bits become the time and its version
 * digit 7. That leaves 74 random bits (rand_a and rand_b of RFC 9562 §5.7), and the variant is v4's.
 */
export function uuidv7(nowMs: number): string {
  const time = nowMs.toString(16).padStart(12, '0');
  const r = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${r.slice(15)}`;
}

/** Milliseconds encoded in a UUIDv7, or undefined when the string is not one. */
export function uuidv7Time(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
