export interface ServerMetadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint?: string;
}

/**
 * OIDC Discovery 1.0 §4: the document at `<issuer>/.well-known/openid-configuration`. Its `issuer` must be
 * exactly the one configured (§4.3), or a compromised or mistyped document could point us at other keys.
 */
export function discovery(issuer: string, fetchFn: typeof fetch): () => Promise<ServerMetadata> {
  let found: ServerMetadata | undefined;
  let pending: Promise<ServerMetadata> | undefined;
  const load = async (): Promise<ServerMetadata> => {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetchFn(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
    const doc = (await res.json()) as Partial<ServerMetadata>;
    if (doc.issuer !== issuer) throw new Error(`the discovery document names the issuer ${String(doc.issuer)}, not ${issuer}`);
    if (typeof doc.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
    return doc as ServerMetadata;
  };
  return async () => {
    if (found) return found;
    pending ??= load().finally(() => (pending = undefined));
    found = await pending;
    return found;
  };
}
