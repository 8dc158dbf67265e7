import type { Warden } from '../kernel/warden.js';
import { AuditLog } from '../features/audit/audit-log.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import type { Config } from '../kernel/config/load.js';
import { openDatabase, type Database } from '../kernel/storage/database.js';
import { MemoryStateStore } from '../kernel/storage/state/memory.js';
import type { StateStore } from '../kernel/storage/state/store.js';
import { AccessTokens } from '../features/tokens/access-token.js';
import { RevocationList } from '../features/tokens/revocation.js';
import { SigningKeys } from '../features/tokens/signing-keys.js';
import { Keyring } from '../kernel/storage/encryption.js';
import { sealSecretsAtRest } from './seal-secrets.js';
import { PasswordHasher } from '../features/users/password-hasher.js';
import { UserCache } from '../features/users/user-cache.js';
import { UsersService } from '../features/users/service.js';
import { loginMetrics } from '../features/users/login-metrics.js';
import { ClientsService } from '../features/oauth/clients/service.js';
import { AccountLockout } from '../features/users/lockout.js';
import { Metrics } from '../platform/metrics.js';
import { createMailer } from '../features/mail/create.js';
import { EmailVerification } from '../features/account/email-verification.js';
import { PasswordReset } from '../features/account/password-reset.js';
import { MfaService } from '../features/account/mfa.js';
import { AccessCatalog } from '../features/apis/catalog.js';
import { AccessAdmin } from '../features/apis/service.js';
import { IdentityProviders } from '../features/federation/providers.js';
import { EXAMPLE_SCOPES } from '../features/oauth/scopes.js';

export type { Warden } from '../kernel/warden.js';

export interface WardenDeps {
  clock?: Clock;
  /** An already opened (and migrated) database: tests, or a caller that owns it. */
  database?: Database;
  state?: StateStore;
  /** Run migrations on open (the server does; tests with a migrated template need not). */
  migrate?: boolean;
  /** Start-up progress for a human (first creation of the embedded database, waiting for PostgreSQL). */
  progress?: (line: string) => void;
}

export async function createWarden(config: Config, deps: WardenDeps = {}): Promise<Warden> {
  const clock = deps.clock ?? systemClock;
  const ownsDatabase = !deps.database;
  const database =
    deps.database ??
    (await openDatabase({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.dataDir,
      sharedBuffersMb: config.PGLITE_SHARED_BUFFERS_MB,
      poolSize: config.DATABASE_POOL_SIZE,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
      progress: deps.progress,
    }));
  let ownedState: StateStore | undefined;
  try {
    if (deps.migrate ?? ownsDatabase) await database.migrate();
    const db = database.db;
    const state = deps.state ?? (ownedState = await openStateStore(config, clock));
    const hasher = new PasswordHasher({
      concurrency: config.hashConcurrency,
      queueLimit: config.HASH_QUEUE,
      memoryKib: config.ARGON2_MEMORY_KIB,
      iterations: config.ARGON2_ITERATIONS,
    });
    const keyring = Keyring.fromConfig(config);
    // Before anything reads them: clear-text rows of earlier versions are sealed, and a missing key stops the start here.
    await sealSecretsAtRest(db, keyring);
    const keys = new SigningKeys(db, config, clock, { keyring, state, database });
    await keys.init();
    await keys.listen();
    const accessTokens = new AccessTokens(keys, config, clock);
    const revocations = new RevocationList(db, state, clock, config.accessTokenTtlSeconds);
    await revocations.init();
    const userCache = new UserCache(db, state, clock, config.USER_CACHE_SECONDS * 1000);
    const audit = new AuditLog(clock);
    const withheld = new Set<string>(config.EXAMPLES === 'disabled' ? EXAMPLE_SCOPES : []);
    const catalog = new AccessCatalog(db, state, clock, config.JWT_AUDIENCE, config.USER_CACHE_SECONDS * 1000, withheld);
    await catalog.init();
    const users = new UsersService(db, config, clock, hasher, userCache, audit);
    const clients = new ClientsService(db, clock, state, audit, catalog);
    const metrics = new Metrics(hasher);
    const lockout = new AccountLockout(state, db, config, audit, metrics);
    users.addLoginGuard(lockout);
    users.addLoginGuard(loginMetrics(metrics));
    const closers: Array<() => Promise<void>> = [];
    const mailer = createMailer(config);
    const account = {
      verification: new EmailVerification(db, config, clock, state, audit, mailer, userCache),
      reset: new PasswordReset(db, config, clock, state, audit, mailer, users, userCache),
    };
    const mfa = new MfaService(db, config, clock, state, audit, hasher, users, keyring);
    const accessAdmin = new AccessAdmin(db, clock, audit, catalog, userCache);
    const identityProviders = new IdentityProviders(db, config, clock, audit);
    users.onRegistered((user, ctx) => account.verification.sendQuietly(user, ctx));
    users.onEmailChangeRequested((user, ctx) => account.verification.changeRequested(user, ctx));
    // Closers run last-in first-out: pending reset requests queue their mails, then the queue drains.
    closers.push(() => hasher.close(), () => mailer.close(), () => account.reset.idle());
    // Runs before the database closes (closers run first, last-in first-out): queued audit rows are written.
    closers.push(() => audit.flush());
    closers.push(() => keys.close());
    const warden: Warden = {
      config,
      clock,
      database,
      db,
      state,
      hasher,
      keys,
      accessTokens,
      revocations,
      userCache,
      users,
      audit,
      clients,
      metrics,
      lockout,
      mailer,
      account,
      mfa,
      catalog,
      accessAdmin,
      identityProviders,
      closers,
      async close() {
        for (const c of closers.reverse()) await c().catch(() => {});
        if (!deps.state) await state.close();
        if (ownsDatabase) await database.close();
      },
    };
    return warden;
  } catch (e) {
    await ownedState?.close().catch(() => {});
    if (ownsDatabase) await database.close().catch(() => {});
    throw e;
  }
}

/**
 * Redis when REDIS_URL is set, shared by every instance. A Redis that is down at start does not stop
 * the start: the instance serves degraded (see RedisStateStore) and heals when Redis comes back.
 */
export async function openStateStore(config: Config, clock: Clock): Promise<StateStore> {
  if (!config.REDIS_URL) return new MemoryStateStore(clock);
  // Loaded only when used: ioredis is ~7 MB of heap that a single instance never needs.
  const { RedisStateStore } = await import('../kernel/storage/state/redis.js');
  const store = new RedisStateStore(config.REDIS_URL, { prefix: config.REDIS_PREFIX });
  await store.connected(3000);
  return store;
}
