import { Type, type Static } from 'typebox';
import { Bool, Int, OptStr } from '../../kernel/config/settings.js';

/** Users: registration, password rules and hashing, lockout, the user cache, the first admin. */
export const UsersSettings = Type.Object({
  USER_CACHE_SECONDS: Int(5, 0, 300, 'how long a user looked up for a bearer token is trusted; disables and logouts clear it at once'),
  REGISTRATION: Type.Union([Type.Literal('open'), Type.Literal('closed')], { default: 'open', description: 'POST /users open to the public' }),
  PASSWORD_MIN_LENGTH: Int(12, 8, 128, 'minimum password length (NIST 800-63B)'),
  PASSWORD_POLICY: Type.Union([Type.Literal('nist'), Type.Literal('classic')], {
    default: 'nist',
    description: 'classic also requires a digit and an uppercase letter',
  }),
  BREACHED_PASSWORDS_FILE: OptStr('sorted file of SHA-1 hashes of breached passwords (HASH:COUNT a line, Pwned Passwords single-file form): a password found there is refused (docs/passkeys.md)'),
  HASH_CONCURRENCY: Int(0, 0, 64, 'password hashes at once; 0 = every core where hashing threads run at low priority (Linux), else cores - 1'),
  HASH_QUEUE: Int(64, 0, 10000, 'password hashes waiting; beyond it logins get 503 + Retry-After'),
  ARGON2_MEMORY_KIB: Int(19456, 8192, 1048576, 'argon2id memory cost'),
  ARGON2_ITERATIONS: Int(2, 1, 10, 'argon2id time cost'),
  LOCKOUT_THRESHOLD: Int(10, 1, 1000, 'failed logins for one account before it locks'),
  LOCKOUT_MINUTES: Int(15, 1, 1440, 'first lock window; doubles at each further lock'),
  REQUIRE_VERIFIED_EMAIL: Bool(false, 'refuse login until the e-mail is verified'),
  BOOTSTRAP_ADMIN_USERNAME: OptStr('with _EMAIL and _PASSWORD: the first admin, created at start only while no admin exists'),
  BOOTSTRAP_ADMIN_EMAIL: OptStr('e-mail address of BOOTSTRAP_ADMIN_USERNAME'),
  BOOTSTRAP_ADMIN_PASSWORD: OptStr('password of BOOTSTRAP_ADMIN_USERNAME (never logged); remove it once the admin exists'),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof UsersSettings> {}
}
