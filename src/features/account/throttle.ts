import { ProblemError } from '../../kernel/errors.js';
import type { StateStore } from '../../kernel/storage/state/store.js';

/**
 * A fixed-window counter in the shared state store (every instance counts together).
 * Answers whether this call is within `limit` for the window, and when the window resets.
 */
export async function hit(state: StateStore, key: string, limit: number, windowMs: number): Promise<{ ok: boolean; retryAfterSeconds: number }> {
  const { value, resetInMs } = await state.increment(key, windowMs);
  return { ok: value <= limit, retryAfterSeconds: Math.max(1, Math.ceil(resetInMs / 1000)) };
}

export function tooManyRequests(detail: string, retryAfterSeconds: number) {
  return new ProblemError(429, 'rate_limited', detail, { headers: { 'retry-after': String(retryAfterSeconds) } });
}
