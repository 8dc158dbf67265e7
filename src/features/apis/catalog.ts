import type { Clock } from '../../kernel/clock.js';
import type { Db } from '../../kernel/storage/database.js';
import type { StateStore } from '../../kernel/storage/state/store.js';
import { loadApis, loadRoles, syncBuiltInIdentifier, type Api, type RoleRecord } from './repository.js';

const CHANNEL = 'warden:catalog-changed';

interface Snapshot {
  apis: Api[];
  byIdentifier: Map<string, Api>;
  byId: Map<string, Api>;
  builtIn: Api;
  roles: Map<string, RoleRecord>;
  /** role → API id → scopes the role gives there. */
  grants: Map<string, Map<string, Set<string>>>;
}

function snapshot(apis: Api[], roles: RoleRecord[]): Snapshot {
  const builtIn = apis.find((a) => a.builtIn);
  if (!builtIn) throw new Error('the built-in API is missing: run the migrations (warden migrate)');
  const grants = new Map<string, Map<string, Set<string>>>();
  for (const r of roles) {
    const byApi = new Map<string, Set<string>>();
    for (const p of r.permissions) {
      let set = byApi.get(p.apiId);
      if (!set) byApi.set(p.apiId, (set = new Set()));
      set.add(p.scope);
    }
    grants.set(r.name, byApi);
  }
  return {
    apis,
    byIdentifier: new Map(apis.map((a) => [a.identifier, a])),
    byId: new Map(apis.map((a) => [a.id, a])),
    builtIn,
    roles: new Map(roles.map((r) => [r.name, r])),
    grants,
  };
}

/**
 * APIs, roles and permissions as every token decision and Warden's own guard read them: a snapshot in
 * memory (a handful of rows), read again whenever any instance changes them (published on the state
 * store, so every instance within one round trip), after a reconnect to the store, and at the latest
 * after `maxAgeMs` (USER_CACHE_SECONDS), the bound the guard promises for role changes.
 */
export class AccessCatalog {
  private snap: Snapshot | undefined;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly state: StateStore,
    private readonly clock: Clock,
    /** JWT_AUDIENCE: the built-in API's identifier. */
    private readonly builtInIdentifier: string,
    private readonly maxAgeMs: number,
    /** Scopes of the built-in API neither advertised nor granted here (the examples' with EXAMPLES=disabled). */
    private readonly withheld: ReadonlySet<string> = new Set(),
  ) {
    state.subscribe(CHANNEL, () => void this.reload().catch(() => {}));
    state.onReconnect?.(() => void this.reload().catch(() => {}));
  }

  async init() {
    await syncBuiltInIdentifier(this.db, this.builtInIdentifier);
    await this.reload();
  }

  /** Read the tables again (concurrent callers share one read). */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const startedAt = this.clock.now();
        const [apis, roles] = [await loadApis(this.db), await loadRoles(this.db)];
        this.snap = snapshot(apis, roles);
        this.loadedAt = startedAt;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** After a change committed here: this instance reads it now, every other one on the announcement. */
  async changed() {
    await this.reload();
    await this.state.publish(CHANNEL, String(this.clock.now()));
  }

  /** The snapshot; an old one is refreshed in the background (the hot path never waits). */
  private get current(): Snapshot {
    if (!this.snap) throw new Error('AccessCatalog used before init()');
    if (this.maxAgeMs > 0 && this.clock.now() - this.loadedAt >= this.maxAgeMs) void this.reload().catch(() => {});
    return this.snap;
  }

  /** Before a token decision: a snapshot no older than maxAgeMs. */
  async fresh(): Promise<void> {
    if (!this.snap || this.clock.now() - this.loadedAt >= this.maxAgeMs) await this.reload();
  }

  apis(): readonly Api[] {
    return this.current.apis;
  }

  builtIn(): Api {
    return this.current.builtIn;
  }

  /**
   * The scopes a token may carry at this API: all of its own, less those of the built-in API this
   * deployment withholds. The rows stay (the admin API shows and keeps them); only grants and discovery skip them.
   */
  offeredScopes(api: Api): string[] {
    const names = api.scopes.map((s) => s.name);
    return api.builtIn && this.withheld.size ? names.filter((n) => !this.withheld.has(n)) : names;
  }

  byIdentifier(identifier: string): Api | undefined {
    return this.current.byIdentifier.get(identifier);
  }

  byId(id: string): Api | undefined {
    return this.current.byId.get(id);
  }

  roles(): RoleRecord[] {
    return [...this.current.roles.values()];
  }

  role(name: string): RoleRecord | undefined {
    return this.current.roles.get(name);
  }

  /** The scopes these roles give at this API. */
  grantedBy(roles: readonly string[], apiId: string): Set<string> {
    const out = new Set<string>();
    const grants = this.current.grants;
    for (const r of roles) for (const s of grants.get(r)?.get(apiId) ?? []) out.add(s);
    return out;
  }

  /** Whether one of these roles gives `scope` at Warden's own API (the bearer guard, on every request). */
  builtInAllows(roles: readonly string[], scope: string): boolean {
    const snap = this.current;
    const id = snap.builtIn.id;
    return roles.some((r) => snap.grants.get(r)?.get(id)?.has(scope) ?? false);
  }

  /** The longest access-token lifetime of any API (introspection verifies every API's tokens). */
  longestTtlSeconds(fallback: number): number {
    return Math.max(fallback, ...this.current.apis.map((a) => a.accessTokenTtlSeconds ?? fallback));
  }
}

declare module '../../kernel/warden.js' {
  interface Warden {
    /** APIs, roles and permissions as tokens and Warden's own guard read them (src/features/apis). */
    readonly catalog: AccessCatalog;
  }
}
