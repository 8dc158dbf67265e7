/** Schemes a browser would run or read locally: never a redirect target (open redirect → XSS/file access). */
const DANGEROUS_SCHEMES = new Set(['javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'ftp', 'ws', 'wss', 'filesystem', 'view-source']);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Why a redirect URI may not be registered, or undefined when it may. RFC 6749 §3.1.2 (absolute, no
 * fragment), OAuth 2.0 Security BCP §4.1 (https), RFC 8252 §7 (loopback http and private-use schemes
 * for native apps).
 */
export function redirectUriProblem(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment (RFC 6749 §3.1.2)';
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (u.username || u.password) return 'must not contain user information';
  if (scheme === 'https') return u.hostname ? undefined : 'needs a host';
  if (scheme === 'http') return LOOPBACK_HOSTS.has(u.hostname) ? undefined : 'http is only allowed for loopback (127.0.0.1, [::1], localhost); use https';
  if (DANGEROUS_SCHEMES.has(scheme)) return `the scheme "${scheme}" is not allowed`;
  // A private-use scheme of a native app (RFC 8252 §7.1), e.g. com.example.app:/callback.
  return /^[a-z][a-z0-9+.-]*$/.test(scheme) ? undefined : 'has an invalid scheme';
}

/**
 * Why a back-channel logout URI may not be registered (OIDC Back-Channel Logout 1.0 §2.2: absolute,
 * http or https, no fragment). Warden POSTs to it from the server side, so only these two schemes and
 * no user information: an admin registers it, and nothing a client or user sends can change it.
 */
export function backchannelLogoutUriProblem(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http or https URI';
  if (u.username || u.password) return 'must not contain user information';
  return u.hostname ? undefined : 'needs a host';
}
