import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newOpaqueToken } from '../../../kernel/secrets.js';
import { LruMap } from 'toad-cache';
import type { AuditLog, RequestContext } from '../../audit/audit-log.js';
import type { Clock } from '../../../kernel/clock.js';
import { conflict, notFound, unprocessable, type FieldError } from '../../../kernel/errors.js';
import type { Db } from '../../../kernel/storage/database.js';
import type { StateStore } from '../../../kernel/storage/state/store.js';
import { ALL_SCOPES, BUILT_IN_CLIENT_ID, OIDC_SCOPES, parseScope } from '../scopes.js';
import type { AccessCatalog } from '../../apis/catalog.js';
import { backchannelLogoutUriProblem, redirectUriProblem } from './redirect-uri.js';
import { deleteClient, findClient, insertClient, listClients, setClientLogout, setClientResources, setClientSecret, type ClientRow } from './repository.js';
import type { ClientMetadata, ClientOut, ClientPatch } from './schemas.js';

const CHANNEL = 'warden:client-changed';

/** A client as the token and authorization endpoints see it. */
export interface OAuthClient {
  clientId: string;
  clientName: string;
  type: 'public' | 'confidential';
  redirectUris: readonly string[];
  grantTypes: readonly string[];
  scope: readonly string[];
  resources: Readonly<Record<string, readonly string[]>>;
  tokenEndpointAuthMethod: string;
  firstParty: boolean;
  secretHash: Buffer | undefined;
  /** OIDC RP-Initiated Logout: where /logout may send the browser back to. */
  postLogoutRedirectUris: readonly string[];
  /** OIDC Back-Channel Logout: where a session's end is announced. */
  backchannelLogoutUri: string | null;
}

function toClient(row: ClientRow): OAuthClient {
  return {
    clientId: row.clientId,
    clientName: row.clientName,
    type: row.type,
    redirectUris: row.redirectUris,
    grantTypes: row.grantTypes,
    scope: parseScope(row.scope),
    resources: row.resources,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod,
    firstParty: row.firstParty,
    secretHash: row.secretHash ? Buffer.from(row.secretHash, 'base64url') : undefined,
    postLogoutRedirectUris: row.postLogoutRedirectUris,
    backchannelLogoutUri: row.backchannelLogoutUri,
  };
}

export function toClientOut(row: ClientRow): ClientOut {
  return {
    client_id: row.clientId,
    client_name: row.clientName,
    redirect_uris: row.redirectUris,
    grant_types: row.grantTypes,
    response_types: row.responseTypes,
    token_endpoint_auth_method: row.tokenEndpointAuthMethod,
    scope: row.scope,
    first_party: row.firstParty,
    resources: row.resources,
    post_logout_redirect_uris: row.postLogoutRedirectUris,
    backchannel_logout_uri: row.backchannelLogoutUri,
    backchannel_logout_session_required: row.backchannelLogoutSessionRequired,
    client_type: row.type,
    client_id_issued_at: Math.floor(row.createdAt.getTime() / 1000),
    secret_rotated_at: row.secretRotatedAt?.toISOString() ?? null,
  };
}

/**
 * Client secrets are 256 random bits, so a fast hash is the right storage (a slow password hash adds
 * nothing against brute force at that entropy, and would cap /introspect at a few hundred calls a second).
 */
function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
const newSecret = () => newOpaqueToken('wcs_');
// Letters, digits and '-' only: fits the pagination cursor and needs no escaping in Basic auth.
const newClientId = () => `wc-${randomBytes(16).toString('hex')}`;

/**
 * The OAuth client registry. Clients are read on every token, revoke and introspect call, so they are
 * kept in memory for a short while; any change is published so every instance drops its copy at once.
 */
export class ClientsService {
  /** Least recently used out at 10,000 clients: the clients in use stay cached whatever else is asked for. */
  private readonly cache = new LruMap<{ client: OAuthClient | undefined; at: number }>(10_000);

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly state: StateStore,
    private readonly audit: AuditLog,
    private readonly catalog: AccessCatalog,
    private readonly cacheMs = 30_000,
  ) {
    state.subscribe(CHANNEL, (id) => this.cache.delete(id));
  }

  private async changed(clientId: string) {
    this.cache.delete(clientId);
    await this.state.publish(CHANNEL, clientId);
  }

  /** The client, from the short cache. */
  async find(clientId: string): Promise<OAuthClient | undefined> {
    const hit = this.cache.get(clientId);
    const now = this.clock.now();
    if (hit && now - hit.at < this.cacheMs) return hit.client;
    const row = await findClient(this.db, clientId);
    const client = row ? toClient(row) : undefined;
    this.cache.set(clientId, { client, at: now });
    return client;
  }

  /**
   * Whether tokens naming this client may still be used (the bearer guard, introspection): a deleted
   * client's tokens die with it. Warden's own BUILT_IN_CLIENT_ID always exists. Answers without a promise
   * when the cache knows (the bearer guard's hot path).
   */
  exists(clientId: string): boolean | Promise<boolean> {
    if (clientId === BUILT_IN_CLIENT_ID) return true;
    const hit = this.cache.get(clientId);
    if (hit && this.clock.now() - hit.at < this.cacheMs) return hit.client !== undefined;
    return this.find(clientId).then((c) => c !== undefined);
  }

  /** Constant-time check of a presented secret against the stored hash. */
  secretMatches(client: OAuthClient, secret: string): boolean {
    if (!client.secretHash) return false;
    return timingSafeEqual(hashSecret(secret), client.secretHash);
  }

  /** Validate RFC 7591 metadata and register the client; the secret is returned here and never again. */
  async create(meta: ClientMetadata, ctx: RequestContext): Promise<{ client: ClientOut; secret: string | undefined }> {
    const authMethod = meta.token_endpoint_auth_method ?? 'client_secret_basic';
    const type = authMethod === 'none' ? 'public' : 'confidential';
    const grantTypes = [...new Set(meta.grant_types ?? ['authorization_code', 'refresh_token'])];
    const redirectUris = [...new Set(meta.redirect_uris ?? [])];
    const firstParty = meta.first_party ?? false;
    const errors: FieldError[] = [];
    redirectUris.forEach((uri, i) => {
      const problem = redirectUriProblem(uri);
      if (problem) errors.push({ field: `redirect_uris.${i}`, message: problem });
    });
    const postLogoutRedirectUris = [...new Set(meta.post_logout_redirect_uris ?? [])];
    postLogoutRedirectUris.forEach((uri, i) => {
      const problem = redirectUriProblem(uri);
      if (problem) errors.push({ field: `post_logout_redirect_uris.${i}`, message: problem });
    });
    const backchannelLogoutUri = meta.backchannel_logout_uri ?? null;
    const backchannelProblem = backchannelLogoutUri === null ? undefined : backchannelLogoutUriProblem(backchannelLogoutUri);
    if (backchannelProblem) errors.push({ field: 'backchannel_logout_uri', message: backchannelProblem });
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
      errors.push({ field: 'redirect_uris', message: 'the authorization_code grant needs at least one redirect URI' });
    }
    if (grantTypes.includes('client_credentials') && type === 'public') {
      errors.push({ field: 'grant_types', message: 'client_credentials needs a confidential client (a secret)' });
    }
    if (grantTypes.includes('password') && !firstParty) {
      errors.push({ field: 'grant_types', message: 'the password grant is only for first-party clients' });
    }
    const responseTypes = meta.response_types ?? (grantTypes.includes('authorization_code') ? ['code'] : []);
    if (responseTypes.includes('code') !== grantTypes.includes('authorization_code')) {
      errors.push({ field: 'response_types', message: 'response_types "code" goes with the authorization_code grant (RFC 7591 §2.1)' });
    }
    const scopes = meta.scope === undefined ? ALL_SCOPES : parseScope(meta.scope);
    const known = new Set<string>([...OIDC_SCOPES, ...this.catalog.builtIn().scopes.map((s) => s.name)]);
    const unknown = scopes.filter((s) => !known.has(s));
    if (unknown.length) errors.push({ field: 'scope', message: `unknown scope: ${unknown.join(' ')}` });
    const resources = meta.resources ?? {};
    errors.push(...this.resourceProblems(resources));
    if (errors.length) {
      const code = errors.some((e) => e.field.startsWith('redirect_uris') || e.field.startsWith('post_logout_redirect_uris')) ? 'invalid_redirect_uri' : 'invalid_client_metadata';
      throw unprocessable(code, errors.map((e) => `${e.field} ${e.message}`).join('; '), errors);
    }
    const secret = type === 'confidential' ? newSecret() : undefined;
    const now = new Date(this.clock.now());
    const row = await this.db.transaction(async (tx) => {
      const r = await insertClient(tx, {
        clientId: newClientId(),
        clientName: meta.client_name,
        type,
        secretHash: secret ? hashSecret(secret).toString('base64url') : null,
        redirectUris,
        grantTypes,
        responseTypes,
        tokenEndpointAuthMethod: authMethod,
        scope: scopes.join(' '),
        firstParty,
        resources,
        postLogoutRedirectUris,
        backchannelLogoutUri,
        backchannelLogoutSessionRequired: meta.backchannel_logout_session_required ?? false,
        createdAt: now,
      });
      await this.audit.record(
        tx,
        { type: 'client.created', subjectId: r.clientId, details: { client_name: r.clientName, type, grant_types: grantTypes, first_party: firstParty } },
        ctx,
      );
      return r;
    });
    return { client: toClientOut(row), secret };
  }

  /** Every identifier names a registered API and every scope is one of its own. */
  private resourceProblems(resources: Record<string, string[]>): FieldError[] {
    const errors: FieldError[] = [];
    for (const [identifier, scopes] of Object.entries(resources)) {
      const api = this.catalog.byIdentifier(identifier);
      if (!api) {
        errors.push({ field: `resources.${identifier}`, message: 'no API has this identifier' });
        continue;
      }
      const missing = scopes.filter((s) => !api.scopes.some((x) => x.name === s));
      if (missing.length) errors.push({ field: `resources.${identifier}`, message: `the API has no scope ${missing.join(' ')}` });
    }
    return errors;
  }

  /** Replace what the client may ask for at each API; audited with before and after. */
  async setResources(clientId: string, resources: Record<string, string[]>, ctx: RequestContext): Promise<ClientOut> {
    const before = await findClient(this.db, clientId);
    if (!before) throw notFound('no such client');
    await this.catalog.fresh();
    const errors = this.resourceProblems(resources);
    if (errors.length) throw unprocessable('invalid_client_metadata', errors.map((e) => `${e.field} ${e.message}`).join('; '), errors);
    const row = await this.db.transaction(async (tx) => {
      const r = await setClientResources(tx, clientId, resources);
      await this.audit.record(tx, { type: 'client.resources_changed', subjectId: clientId, details: { before: before.resources, after: resources } }, ctx);
      return r!;
    });
    await this.changed(clientId);
    return toClientOut(row);
  }

  /** Change the logout metadata (RP-Initiated and Back-Channel Logout), checked as at registration; audited with before and after. */
  async setLogout(clientId: string, patch: Omit<ClientPatch, 'resources'>, ctx: RequestContext): Promise<ClientOut> {
    const before = await findClient(this.db, clientId);
    if (!before) throw notFound('no such client');
    const errors: FieldError[] = [];
    const uris = patch.post_logout_redirect_uris && [...new Set(patch.post_logout_redirect_uris)];
    uris?.forEach((uri, i) => {
      const problem = redirectUriProblem(uri);
      if (problem) errors.push({ field: `post_logout_redirect_uris.${i}`, message: problem });
    });
    const problem = patch.backchannel_logout_uri ? backchannelLogoutUriProblem(patch.backchannel_logout_uri) : undefined;
    if (problem) errors.push({ field: 'backchannel_logout_uri', message: problem });
    if (errors.length) throw unprocessable('invalid_client_metadata', errors.map((e) => `${e.field} ${e.message}`).join('; '), errors);
    const set = {
      ...(uris ? { postLogoutRedirectUris: uris } : {}),
      ...(patch.backchannel_logout_uri !== undefined ? { backchannelLogoutUri: patch.backchannel_logout_uri } : {}),
      ...(patch.backchannel_logout_session_required !== undefined ? { backchannelLogoutSessionRequired: patch.backchannel_logout_session_required } : {}),
    };
    if (!Object.keys(set).length) return toClientOut(before);
    const row = await this.db.transaction(async (tx) => {
      const r = await setClientLogout(tx, clientId, set);
      const pick = (c: ClientRow) => ({
        post_logout_redirect_uris: c.postLogoutRedirectUris,
        backchannel_logout_uri: c.backchannelLogoutUri,
        backchannel_logout_session_required: c.backchannelLogoutSessionRequired,
      });
      await this.audit.record(tx, { type: 'client.logout_changed', subjectId: clientId, details: { before: pick(before), after: pick(r!) } }, ctx);
      return r!;
    });
    await this.changed(clientId);
    return toClientOut(row);
  }

  async get(clientId: string): Promise<ClientOut> {
    const row = await findClient(this.db, clientId);
    if (!row) throw notFound('no such client');
    return toClientOut(row);
  }

  async list(q: { limit: number; cursor?: string | undefined }) {
    const page = await listClients(this.db, q);
    return { items: page.items.map(toClientOut), next_cursor: page.nextCursor };
  }

  /** A new secret replaces the old one at once (the old stops working); shown once. */
  async rotateSecret(clientId: string, ctx: RequestContext): Promise<{ client: ClientOut; secret: string }> {
    const existing = await findClient(this.db, clientId);
    if (!existing) throw notFound('no such client');
    if (existing.type !== 'confidential') throw unprocessable('public_client', 'a public client has no secret', [{ field: 'id', message: 'is a public client' }]);
    const secret = newSecret();
    const row = await this.db.transaction(async (tx) => {
      const r = await setClientSecret(tx, clientId, hashSecret(secret).toString('base64url'), new Date(this.clock.now()));
      await this.audit.record(tx, { type: 'client.secret_rotated', subjectId: clientId }, ctx);
      return r!;
    });
    await this.changed(clientId);
    return { client: toClientOut(row), secret };
  }

  async delete(clientId: string, ctx: RequestContext): Promise<void> {
    if (clientId === BUILT_IN_CLIENT_ID) throw conflict('reserved_client', `"${BUILT_IN_CLIENT_ID}" is Warden's own first-party client and cannot be deleted`);
    const gone = await this.db.transaction(async (tx) => {
      const ok = await deleteClient(tx, clientId);
      if (ok) await this.audit.record(tx, { type: 'client.deleted', subjectId: clientId }, ctx);
      return ok;
    });
    if (!gone) throw notFound('no such client');
    await this.changed(clientId);
  }
}

declare module '../../../kernel/warden.js' {
  interface Warden {
    /** OAuth client registry (cached for the token, revoke and introspect endpoints). */
    readonly clients: ClientsService;
  }
}
