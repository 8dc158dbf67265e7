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
