import { randomUUID } from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import * as oidc from 'openid-client';
import type { RequestContext } from '../audit/audit-log.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../../kernel/clock.js';
import type { Config } from '../../kernel/config/load.js';
import { notFound, unprocessable } from '../../kernel/errors.js';
import type { Db } from '../../kernel/storage/database.js';
import { Keyring, sealedAt } from '../../kernel/storage/encryption.js';
import { identityProviders } from './tables.js';
import { isUuid } from '../users/repository.js';

export type ProviderKind = 'oidc' | 'github';

/** GitHub as an OAuth 2 preset (no OIDC: no id_token; the user and e-mails APIs say who signed in). */
export const GITHUB = {
  issuer: 'https://github.com',
  authorizationEndpoint: 'https://github.com/login/oauth/authorize',
  tokenEndpoint: 'https://github.com/login/oauth/access_token',
  userEndpoint: 'https://api.github.com/user',
  emailsEndpoint: 'https://api.github.com/user/emails',
  scopes: 'read:user user:email',
} as const;

export interface IdentityProvider {
  id: string;
  kind: ProviderKind;
  name: string;
  issuer: string | null;
  clientId: string;
  scopes: string;
  createdAt: Date;
  updatedAt: Date;
}

/** What the API shows of a provider: never the client secret. */
export function toProviderOut(p: IdentityProvider) {
  return {
    id: p.id,
    kind: p.kind,
    name: p.name,
    issuer: p.issuer,
    client_id: p.clientId,
    scopes: p.scopes,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export interface ProviderIn {
  kind: ProviderKind;
  name: string;
  issuer?: string | undefined;
  client_id: string;
  client_secret: string;
  scopes?: string | undefined;
}

export type ProviderPatch = Partial<Omit<ProviderIn, 'kind'>>;

type Row = typeof identityProviders.$inferSelect;
const strip = ({ clientSecret: _secret, ...p }: Row): IdentityProvider => p;

/** How long a discovered configuration is reused before the issuer's metadata is read again. */
const DISCOVERY_TTL_MS = 10 * 60_000;

/**
 * Upstream identity providers: the admin API's store (secrets sealed at rest) and the openid-client
 * configuration of each, by discovery for generic OIDC, fixed endpoints for the GitHub preset.
 */
export class IdentityProviders {
  private readonly keyring: Keyring;
  private readonly configs = new Map<string, { at: number; updatedAt: number; config: oidc.Configuration }>();

  constructor(
    private readonly db: Db,
    private readonly config: Pick<Config, 'NODE_ENV' | 'encryptionKeys' | 'SECRET_KEY'>,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {
    this.keyring = Keyring.fromConfig(config);
  }

  /** http:// issuers only outside production (a test or a local IdP); production needs https. */
  private checkIssuer(issuer: string | undefined, kind: ProviderKind) {
    if (kind === 'github') {
      if (issuer !== undefined && issuer !== GITHUB.issuer) throw invalid('issuer', `must be absent for kind github (it is ${GITHUB.issuer})`);
      return;
    }
    if (!issuer) throw invalid('issuer', 'is required for kind oidc (the URL discovery starts from)');
    let u: URL;
    try {
      u = new URL(issuer);
    } catch {
      throw invalid('issuer', 'must be an absolute URL');
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && this.config.NODE_ENV !== 'production')) {
      throw invalid('issuer', 'must be an https:// URL (http:// is accepted outside production only)');
    }
    if (u.search || u.hash || u.username || u.password) throw invalid('issuer', 'must have no query, fragment or credentials');
  }

  async list(): Promise<IdentityProvider[]> {
    const rows = await this.db.select().from(identityProviders).orderBy(desc(identityProviders.createdAt));
    return rows.map(strip);
  }

  private async row(id: string): Promise<Row> {
    if (!isUuid(id)) throw notFound('no such identity provider');
    const [row] = await this.db.select().from(identityProviders).where(eq(identityProviders.id, id));
    if (!row) throw notFound('no such identity provider');
    return row;
  }

  async get(id: string): Promise<IdentityProvider> {
    return strip(await this.row(id));
  }

  /** The provider, or undefined for an unknown or malformed id (the browser routes answer with a page). */
  async find(id: string): Promise<IdentityProvider | undefined> {
    return this.row(id).then(strip, () => undefined);
  }

  async create(input: ProviderIn, ctx: RequestContext): Promise<IdentityProvider> {
    this.checkIssuer(input.issuer, input.kind);
    const id = randomUUID();
    const now = new Date(this.clock.now());
    const issuer = input.kind === 'github' ? GITHUB.issuer : input.issuer!.replace(/\/$/, '');
    const scopes = normaliseScopes(input.scopes ?? (input.kind === 'github' ? GITHUB.scopes : 'openid email profile'), input.kind);
    const row = await this.db.transaction(async (tx) => {
      const [r] = await tx
        .insert(identityProviders)
        .values({
          id,
          kind: input.kind,
          name: input.name,
          issuer,
          clientId: input.client_id,
          clientSecret: this.keyring.seal(input.client_secret, sealedAt.idpClientSecret(id)),
          scopes,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await this.audit.record(tx, { type: 'identity_provider.created', subjectId: id, details: { kind: input.kind, name: input.name, issuer } }, ctx);
      return r!;
    });
    return strip(row);
  }

  async update(id: string, patch: ProviderPatch, ctx: RequestContext): Promise<IdentityProvider> {
    const existing = await this.row(id);
    if (patch.issuer !== undefined) this.checkIssuer(patch.issuer, existing.kind);
    const now = new Date(this.clock.now());
    const set: Partial<Row> = { updatedAt: now };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.issuer !== undefined && existing.kind === 'oidc') set.issuer = patch.issuer.replace(/\/$/, '');
    if (patch.client_id !== undefined) set.clientId = patch.client_id;
    if (patch.client_secret !== undefined) set.clientSecret = this.keyring.seal(patch.client_secret, sealedAt.idpClientSecret(id));
    if (patch.scopes !== undefined) set.scopes = normaliseScopes(patch.scopes, existing.kind);
    const row = await this.db.transaction(async (tx) => {
      const [r] = await tx.update(identityProviders).set(set).where(eq(identityProviders.id, id)).returning();
      const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
      await this.audit.record(tx, { type: 'identity_provider.updated', subjectId: id, details: { changed } }, ctx);
      return r!;
    });
    this.configs.delete(id);
    return strip(row);
  }

  /** Deleting a provider deletes its links (users keep their accounts). */
  async delete(id: string, ctx: RequestContext): Promise<void> {
    const existing = await this.row(id);
    await this.db.transaction(async (tx) => {
      await tx.delete(identityProviders).where(eq(identityProviders.id, id));
      await this.audit.record(tx, { type: 'identity_provider.deleted', subjectId: id, details: { kind: existing.kind, name: existing.name } }, ctx);
    });
    this.configs.delete(id);
  }

  /** Outside production an http:// issuer is allowed (see checkIssuer); openid-client must be told. */
  private insecure(issuer: string) {
    return issuer.startsWith('http://') && this.config.NODE_ENV !== 'production';
  }

  /**
   * The openid-client configuration of a provider: discovery from the issuer for OIDC (cached a few
   * minutes; a change of the provider drops it), fixed endpoints for GitHub. The client secret is
   * opened from its sealed form only here.
   */
  async clientConfig(p: IdentityProvider): Promise<oidc.Configuration> {
    const cached = this.configs.get(p.id);
    const now = this.clock.now();
    if (cached && cached.updatedAt === p.updatedAt.getTime() && now - cached.at < DISCOVERY_TTL_MS) return cached.config;
    const row = await this.row(p.id);
    const secret = this.keyring.open(row.clientSecret, sealedAt.idpClientSecret(p.id));
    let config: oidc.Configuration;
    if (p.kind === 'github') {
      config = new oidc.Configuration(
        { issuer: GITHUB.issuer, authorization_endpoint: GITHUB.authorizationEndpoint, token_endpoint: GITHUB.tokenEndpoint },
        p.clientId,
        undefined,
        oidc.ClientSecretPost(secret),
      );
    } else {
      const issuer = p.issuer!;
      config = await oidc.discovery(new URL(issuer), p.clientId, undefined, oidc.ClientSecretBasic(secret), {
        ...(this.insecure(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
        timeout: 10,
      });
    }
    this.configs.set(p.id, { at: now, updatedAt: p.updatedAt.getTime(), config });
    return config;
  }
}

function invalid(field: string, message: string) {
  return unprocessable('validation_failed', `${field} ${message}`, [{ field, message }]);
}

/** Space-separated, deduplicated; an OIDC provider always gets `openid` (no id_token, no sign-in). */
function normaliseScopes(scopes: string, kind: ProviderKind): string {
  const list = [...new Set(scopes.split(/\s+/).filter(Boolean))];
  if (kind === 'oidc' && !list.includes('openid')) list.unshift('openid');
  if (!list.length) throw invalid('scopes', 'must name at least one scope');
  return list.join(' ');
}

declare module '../../kernel/warden.js' {
  interface Warden {
    /** Upstream identity providers and their discovered configurations, one per Warden (src/features/federation). */
    readonly identityProviders: IdentityProviders;
  }
}
