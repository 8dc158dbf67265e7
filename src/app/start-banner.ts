import type { Config } from '../kernel/config/load.js';

export interface BannerFacts {
  version: string;
  /** The address it listens on, as printed (http://HOST:PORT). */
  url: string;
  config: Pick<Config, 'issuer' | 'DOCS' | 'DATABASE_URL' | 'dataDir' | 'REDIS_URL' | 'REDIS_PREFIX'>;
  /** GET /account is served (the account page). */
  accountPage: boolean;
  admins: { count: number; names: string[] };
  /** The first admin was just created from BOOTSTRAP_ADMIN_*, or a user of that name already existed. */
  bootstrap?: { created?: string; userExists?: string };
  /** The one-time first-admin link, when no admin exists. */
  setupUrl?: string;
}

/** host:port/database of a connection URL, without the credentials. */
export function describePostgres(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    return `PostgreSQL on ${u.hostname}:${u.port || '5432'}, database ${decodeURIComponent(u.pathname.slice(1)) || u.username || 'postgres'}`;
  } catch {
    return 'PostgreSQL';
  }
}

function describeRedis(redisUrl: string, prefix: string): string {
  try {
    const u = new URL(redisUrl);
    const db = u.pathname.slice(1);
    return `Redis on ${u.hostname}:${u.port || '6379'}${db ? `, database ${db}` : ''}, prefix ${prefix}`;
  } catch {
    return 'Redis';
  }
}

/**
 * What a newcomer needs on the first screen: what is served where, on which database, and whether an
 * admin exists (and how to make one). Plain text on stderr; the JSON log carries the same facts.
 */
export function startBanner(f: BannerFacts): string[] {
  const c = f.config;
  const row = (label: string, value: string) => `  ${label.padEnd(14)} ${value}`;
  const lines = [
    `Warden ${f.version} is listening on ${f.url}`,
    row('API', `${f.url}  (tokens: POST /token; discovery: /.well-known/openid-configuration)`),
    row('docs', c.DOCS === 'enabled' ? `${f.url}/docs` : 'off (DOCS=disabled)'),
    row('admin console', `${f.url}/admin`),
  ];
  if (f.accountPage) lines.push(row('account page', `${f.url}/account`));
  lines.push(row('issuer', c.issuer));
  lines.push(row('database', c.DATABASE_URL ? describePostgres(c.DATABASE_URL) : `embedded (PGlite) in ${c.dataDir}`));
  lines.push(row('shared state', c.REDIS_URL ? describeRedis(c.REDIS_URL, c.REDIS_PREFIX) : 'in this process (one instance; set REDIS_URL for several)'));
  if (f.bootstrap?.created) lines.push(row('admin', `${f.bootstrap.created} created from BOOTSTRAP_ADMIN_* (remove BOOTSTRAP_ADMIN_PASSWORD now)`));
  else if (f.admins.count > 0) {
    const more = f.admins.count > f.admins.names.length ? ` and ${f.admins.count - f.admins.names.length} more` : '';
    lines.push(row('admin', `${f.admins.names.join(', ')}${more}`));
  } else {
    lines.push(row('admin', 'none yet. To create the first one:'));
    if (f.bootstrap?.userExists) {
      lines.push(`    BOOTSTRAP_ADMIN_USERNAME: a user "${f.bootstrap.userExists}" already exists and was left unchanged`);
    }
    if (f.setupUrl) lines.push(`    open (on this machine, once, within 15 minutes): ${f.setupUrl}`);
    lines.push('    or set BOOTSTRAP_ADMIN_USERNAME, BOOTSTRAP_ADMIN_EMAIL, BOOTSTRAP_ADMIN_PASSWORD and restart');
    lines.push(`    or ${c.DATABASE_URL ? '' : 'stop Warden and '}run: npx warden user create --username U --email E --role admin`);
  }
  return lines;
}
