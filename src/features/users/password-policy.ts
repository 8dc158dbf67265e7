import { readFileSync } from 'node:fs';
import { packageFile } from '../../kernel/paths.js';
import type { FieldError } from '../../kernel/errors.js';

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  if (!common) {
    const file = packageFile('assets', 'common-passwords.txt');
    common = new Set(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.toLowerCase()),
    );
  }
  return common;
}

export interface PasswordPolicy {
  minLength: number;
  classic: boolean;
}

export const MAX_PASSWORD_LENGTH = 128;

/**
 * NIST SP 800-63B §5.1.1.2: length, not composition; refuse known-breached/common values and
 * context-specific words (username, e-mail). `classic` adds the seeds' digit + uppercase rules.
 * Returns the problems; empty means acceptable.
 */
export function checkPassword(
  password: string,
  policy: PasswordPolicy,
  context: { username?: string | undefined; email?: string | undefined },
  field = 'password',
): FieldError[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < policy.minLength) problems.push(`must be at least ${policy.minLength} characters`);
  if (length > MAX_PASSWORD_LENGTH) problems.push(`must be at most ${MAX_PASSWORD_LENGTH} characters`);
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) problems.push('is too common (found in a list of breached passwords)');
  const user = context.username?.toLowerCase();
  if (user && user.length >= 3 && lower.includes(user)) problems.push('must not contain the username');
  const local = context.email?.toLowerCase().split('@')[0];
  if (context.email && (lower.includes(context.email.toLowerCase()) || (local && local.length >= 3 && lower.includes(local)))) {
    problems.push('must not contain the e-mail address');
  }
  if (policy.classic) {
    if (!/[0-9]/.test(password)) problems.push('must contain a digit');
    if (!/[A-Z]/.test(password)) problems.push('must contain an uppercase letter');
  }
  return problems.map((message) => ({ field, message }));
}
