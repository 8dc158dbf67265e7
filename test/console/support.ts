import type { TestApp } from '../support/app.js';
import { STRONG_PASSWORD } from '../support/app.js';

/** Cookies from Set-Cookie headers, as a Cookie header value. */
export function cookieJar() {
  const jar = new Map<string, string>();
  return {
    take(setCookie: string | string[] | undefined) {
      for (const c of [setCookie ?? []].flat()) {
        const [pair] = c.split(';');
        const i = pair!.indexOf('=');
        const name = pair!.slice(0, i);
        const value = pair!.slice(i + 1);
        if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) jar.delete(name);
        else jar.set(name, value);
      }
    },
    header() {
      return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    },
    get: (name: string) => jar.get(name),
    set: (name: string, value: string) => jar.set(name, value),
  };
}

export const csrfFrom = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1];

/** Sign in to the console through its forms (inject); returns the jar and the session's CSRF token. */
export async function consoleLogin(t: TestApp, login: string, password = STRONG_PASSWORD, headers: Record<string, string> = {}) {
  const jar = cookieJar();
  const page = await t.app.inject({ method: 'GET', url: '/admin/console/login', headers });
  jar.take(page.headers['set-cookie']);
  const res = await t.app.inject({
    method: 'POST',
    url: '/admin/console/login',
    headers: { ...headers, cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: new URLSearchParams({ _csrf: csrfFrom(page.body)!, login, password }).toString(),
  });
  jar.take(res.headers['set-cookie']);
  let csrf: string | undefined;
  if (res.statusCode === 303 && res.headers.location === '/admin/console/users') {
    const users = await t.app.inject({ method: 'GET', url: '/admin/console/users', headers: { ...headers, cookie: jar.header() } });
    csrf = csrfFrom(users.body);
  }
  return { res, jar, csrf };
}

export function post(t: TestApp, url: string, jar: ReturnType<typeof cookieJar>, params: Record<string, string>, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: { ...headers, cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(params).toString(),
  });
}
