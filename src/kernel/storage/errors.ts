/** PostgreSQL SQLSTATE of a driver error (node-postgres, PGlite, or wrapped by Drizzle), if any. */
export function sqlState(e: unknown): { code?: string; constraint?: string } {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const o = cur as { code?: unknown; constraint?: unknown; cause?: unknown; message?: unknown };
    if (typeof o.code === 'string' && /^[0-9A-Z]{5}$/.test(o.code)) {
      // node-postgres fills `constraint`; PGlite names it in the message ("... constraint "users_email_lower_idx"").
      const named = typeof o.message === 'string' ? /constraint "([^"]+)"/.exec(o.message)?.[1] : undefined;
      return { code: o.code, constraint: typeof o.constraint === 'string' ? o.constraint : named };
    }
    cur = o.cause;
  }
  return {};
}

export const isUniqueViolation = (e: unknown) => sqlState(e).code === '23505';

/**
 * The database refused a value the request carried: class 22 (data exception: 22P02 invalid text
 * representation, 22021 invalid byte sequence, 22P05 untranslatable character, 22001 too long, 22003
 * out of range, 22008 datetime overflow...) and class 54 (program limit exceeded: 54000 index row too
 * large...). Input validation should have refused it first; when it did not, it is still the request's
 * fault, not the server's.
 */
export const isRefusedInput = (e: unknown) => /^(22|54)/.test(sqlState(e).code ?? '');

/**
 * Why a string cannot be stored, if it cannot: PostgreSQL refuses NUL in text and jsonb (SQLSTATE
 * 22021, 22P05), and a lone UTF-16 surrogate has no UTF-8 form (the drivers silently store U+FFFD,
 * jsonb refuses the `\ud800` escape). Either would reach the database as a 500 or as altered data.
 */
export function unstorableText(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain a NUL character';
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return 'must be well-formed Unicode (a lone surrogate)';
  return undefined;
}
