import { createHash, randomBytes } from 'node:crypto';
import type { App } from '../../src/app/app.js';
import { createAdmin, form, type TestApp } from '../support/app.js';

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  [k: string]: unknown;
}

/** Register a client through the admin API (as an operator would). */
export async function registerClient(t: TestApp, adminToken: string, meta: Record<string, unknown>): Promise<RegisteredClient> {
  const res = await t.app.inject({ method: 'POST', url: '/admin/clients', headers: { authorization: `Bearer ${adminToken}` }, payload: meta });
  if (res.statusCode !== 201) throw new Error(`register client: ${res.statusCode} ${res.body}`);
  return res.json() as RegisteredClient;
}

export async function adminToken(t: TestApp): Promise<string> {
  return (await createAdmin(t, 'root')).access_token;
}

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

/** A hand-made cookie jar over inject: enough for the authorize pages. */
export class Jar {
  readonly cookies = new Map<string, string>();
  take(setCookie: string | string[] | undefined) {
    for (const c of [setCookie ?? []].flat()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The hidden fields of the page's form. */
export function formFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]!] = m[2]!;
  return out;
}

export async function getPage(app: App, jar: Jar, url: string) {
  const res = await app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
  jar.take(res.headers['set-cookie']);
  return res;
}

export async function postForm(app: App, jar: Jar, fields: Record<string, string>) {
  const f = form(fields);
  const res = await app.inject({ method: 'POST', url: '/authorize', headers: { ...f.headers, cookie: jar.header() }, payload: f.payload });
  jar.take(res.headers['set-cookie']);
  return res;
}

export function authorizeUrl(params: Record<string, string>) {
  return `/authorize?${new URLSearchParams(params).toString()}`;
}

/**
 * Drive /authorize to the end: login (and consent when asked) with a fresh jar or a given one.
 * Returns the final redirect's URL.
 */
export async function authorizeCode(
  app: App,
  opts: { clientId: string; redirectUri: string; scope: string; challenge: string; username: string; password: string; state?: string; nonce?: string; jar?: Jar },
): Promise<URL> {
  const jar = opts.jar ?? new Jar();
  let res = await getPage(
    app,
    jar,
    authorizeUrl({
      response_type: 'code',
      client_id: opts.clientId,
      redirect_uri: opts.redirectUri,
      scope: opts.scope,
      code_challenge: opts.challenge,
      code_challenge_method: 'S256',
      ...(opts.state ? { state: opts.state } : {}),
      ...(opts.nonce ? { nonce: opts.nonce } : {}),
    }),
  );
  for (let i = 0; i < 4 && res.statusCode === 200; i++) {
    const fields = formFields(res.body);
    if (fields.action === 'login') res = await postForm(app, jar, { ...fields, username: opts.username, password: opts.password });
    else if (fields.action === 'consent') res = await postForm(app, jar, { ...fields, decision: 'allow' });
    else throw new Error(`unexpected page: ${res.body.slice(0, 300)}`);
  }
  if (res.statusCode !== 302 && res.statusCode !== 303) throw new Error(`authorize ended with ${res.statusCode}: ${res.body.slice(0, 300)}`);
  return new URL(res.headers.location as string);
}

export async function exchangeCode(app: App, params: Record<string, string>, headers: Record<string, string> = {}) {
  const f = form({ grant_type: 'authorization_code', ...params });
  return app.inject({ method: 'POST', url: '/token', headers: { ...f.headers, ...headers }, payload: f.payload });
}

export async function tokenRequest(app: App, params: Record<string, string>, headers: Record<string, string> = {}, url = '/token') {
  const f = form(params);
  return app.inject({ method: 'POST', url, headers: { ...f.headers, ...headers }, payload: f.payload });
}
