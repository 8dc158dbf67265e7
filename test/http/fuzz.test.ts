import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { bearer, createAdmin, createTestApp, registerUser, STRONG_PASSWORD, tokensFor, type TestApp } from '../support/app.js';

/**
 * Every operation of /openapi.json, driven with hostile values in every parameter and body field, as
 * an anonymous caller, a user and an admin (tokens from the password grant). It fails on any 5xx but
 * a shed 503, on an answer carrying a stack trace, SQL or a file path, and on a log line carrying a
 * secret. Built from the document, so a route added later is fuzzed without a change here. The seed
 * is fixed (WARDEN_FUZZ_SEED picks another) so a failure replays; WARDEN_FUZZ_TRACE=1 prints each request.
 */

const SEED = Number(process.env.WARDEN_FUZZ_SEED ?? 0x5eed);
/** Hostile values tried per field, besides the few every field gets. */
const SAMPLES_PER_FIELD = 3;
/** Whole-body variants tried per operation and caller, besides the ones every body gets. */
const SAMPLES_PER_BODY = 3;
const MAX_REQUESTS = 8000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Schema {
  type?: string;
  format?: string;
  enum?: Json[];
  const?: Json;
  minLength?: number;
  minimum?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}
interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  contentType: string | undefined;
  body: Schema | undefined;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value JSON cannot spell, written into the body text as is (`1e999` parses to Infinity). */
class Raw {
  constructor(readonly text: string) {}
}
type Value = Json | Raw | undefined;

const deepArray = (n: number) => new Raw('['.repeat(n) + ']'.repeat(n));
const deepObject = (n: number) => new Raw('{"a":'.repeat(n) + '1' + '}'.repeat(n));

/** Text every field gets: what PostgreSQL cannot store, and nothing at all. */
const ALWAYS_TEXT = ['a\u0000b', '\ud800', ''];
const TEXT: string[] = [
  '\u0000',
  'x\udc00y',
  ' ',
  'x'.repeat(5000),
  '../../../etc/passwd',
  '%00',
  '%',
  '\u202eevil',
  '😀'.repeat(40),
  '<script>alert(1)</script>',
  "' or '1'='1",
  '-1',
  '0',
  '1.5',
  '1e309',
  '99999999999999999999999999',
  'NaN',
  'true',
  'null',
  '[]',
  '__proto__',
  'constructor',
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  '2026-13-45T99:99:99Z',
  '-271821-04-20T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
];
/** Typed values for JSON bodies: wrong types, huge, negative and non-integer numbers, prototype keys. */
const ALWAYS_JSON: Value[] = [12345, null];
const JSON_VALUES: Value[] = [
  true,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  new Raw('1e999'),
  new Raw('-1e999'),
  [],
  [null],
  ['a\u0000b'],
  {},
  new Raw('{"__proto__":{"polluted":true}}'),
  new Raw('{"constructor":{"prototype":{"polluted":true}}}'),
  deepArray(200),
  deepObject(200),
];
/** Whole JSON bodies every JSON operation gets, and the ones sampled from. */
const ALWAYS_JSON_BODIES = ['{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}', deepArray(20_000).text];
const JSON_BODIES = [
  '[]',
  'null',
  '"text"',
  '1e999',
  '{}',
  deepObject(5000).text,
  '{"prototype":{"polluted":true}}',
  '{"a\\u0000":1}',
  '{"\\ud800":1}',
  '[{"a":1}]',
  '{"a":' + '"x"'.repeat(1) + ',"a":"\\u0000"}',
  `{"a":"${'x'.repeat(70_000)}"}`,
  '{"unterminated":',
];
const FORM_BODIES = ['a=%00', '%00=1', '__proto__=x', 'constructor%5Bprototype%5D%5Bx%5D=1', 'a=%ED%A0%80', '=&&==', 'grant_type=password&grant_type=refresh_token', `a=${'x'.repeat(70_000)}`, '%'];
/** Percent-encoding; a lone surrogate (which has no UTF-8) as the bytes of its CESU-8 form, which no decoder accepts. */
const encodeText = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
};
const PATH_VALUES = ['', '%00', 'a%00b', '%ED%A0%80', 'not-a-uuid', '..', '%2e%2e', '%2F', 'x'.repeat(250), '00000000-0000-0000-0000-000000000000', '-1', '99999999999999999999'];

/** What the document says about each operation. */
function operations(spec: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const content = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content ?? {};
      const contentType = Object.keys(content)[0];
      out.push({
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters as Parameter[] | undefined) ?? [],
        contentType,
        body: contentType ? content[contentType]?.schema : undefined,
      });
    }
  }
  return out;
}

/**
 * A plausible value for a schema: the start from which one field at a time is made hostile. `every`
 * fills every property (the list of fields to fuzz); otherwise the required and the hinted ones only,
 * so that an optional field (a client_secret beside Basic credentials) does not stop every request early.
 */
function plausible(schema: Schema | undefined, name: string, hints: Record<string, Json>, every = false): Json {
  if (!schema) return 'x';
  if (name in hints) return hints[name]!;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0]!;
  const alt = schema.anyOf ?? schema.oneOf;
  if (alt?.length) return plausible(alt[0], name, hints, every);
  if (schema.allOf?.length) return Object.assign({}, ...schema.allOf.map((s) => plausible(s, name, hints, every) as object));
  switch (schema.type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return [plausible(schema.items, name, hints, every)];
    case 'object': {
      const o: Record<string, Json> = {};
      for (const [k, s] of Object.entries(schema.properties ?? {})) {
        if (every || schema.required?.includes(k) || k in hints) o[k] = plausible(s, k, hints, every);
      }
      return o;
    }
    default:
      if (schema.format === 'uuid') return '3f0c2a8e-5b7d-4e1a-9c6f-2d8b4a7e1f30';
      if (schema.format === 'email') return 'fuzz@example.com';
      if (schema.format === 'date-time') return '2026-01-01T00:00:00.000Z';
      if (schema.format === 'uri') return 'https://client.example/cb';
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 3));
  }
}

/** JSON text, with Raw values spliced in as written. */
function jsonText(value: Value): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `__fuzz_raw_${raws.length - 1}__`;
    }
    return v;
  });
  return text.replace(/"__fuzz_raw_(\d+)__"/g, (_m, i: string) => raws[Number(i)]!);
}

/** Every field of a body: its top-level properties and, below them, every nested property and first array element. */
function fieldPaths(value: Json, prefix: Array<string | number> = [], depth = 0): Array<Array<string | number>> {
  if (depth > 3 || value === null || typeof value !== 'object') return [];
  const out: Array<Array<string | number>> = [];
  const entries: Array<[string | number, Json]> = Array.isArray(value) ? (value.length ? [[0, value[0]!]] : []) : Object.entries(value);
  for (const [k, v] of entries) {
    out.push([...prefix, k]);
    out.push(...fieldPaths(v, [...prefix, k], depth + 1));
  }
  return out;
}

/** `body` with the field at `path` set to `value`; a missing parent is taken from `full`. */
function withField(body: Json, full: Json, path: Array<string | number>, value: Value): Value {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let cur = copy;
  let from = full as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    from = from[k] as Record<string | number, unknown>;
    cur[k] ??= structuredClone(from);
    cur = cur[k] as Record<string | number, unknown>;
  }
  cur[path[path.length - 1]!] = value;
  return copy as Value;
}

/** A form body: strings as they are, anything else as its JSON text. */
function formText(value: Value): string {
  if (value === null || typeof value !== 'object' || value instanceof Raw || Array.isArray(value)) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, typeof x === 'string' ? x : jsonText(x));
    else p.append(k, typeof v === 'string' ? v : v instanceof Raw ? v.text : jsonText(v));
  }
  return p.toString();
}

const STACK = /\n\s+at |\bat [\w.<>]+ \(|:\d+:\d+\)/;
const FILE_PATH = /\/(?:work|home|usr|opt|srv|app|src|dist|node_modules)\/[\w.-]+|\b[\w-]+\.(?:ts|mjs|cjs):\d+/;
const SQL = /Failed query|\bparams: |SQLSTATE|\bselect\s+"|\bfrom\s+"\w+"|insert into\s+"|update\s+"\w+"\s+set|delete from\s+"|invalid input syntax|invalid byte sequence|violates \w+ constraint|duplicate key value|drizzle|pglite/i;
const SECRET_FIELDS = new Set(['access_token', 'refresh_token', 'id_token', 'mfa_token', 'client_secret', 'secret', 'otpauth_uri', 'recovery_codes']);

describe('fuzz: every operation of /openapi.json with hostile input', () => {
  let t: TestApp;
  /** What the server logged since the last request began (a fresh array per request: no growing string to copy). */
  let logged: string[] = [];
  let spec: Parameters<typeof operations>[0];
  const secrets = new Set<string>([STRONG_PASSWORD]);
  const callers: Array<{ name: string; token?: string }> = [{ name: 'anonymous' }];
  const selfIds = new Set<string>();

  before(async () => {
    const logStream = new Writable({
      write(chunk, _enc, cb) {
        logged.push(String(chunk));
        cb();
      },
    });
    // info: the request lines and every warn/error line of what the fuzz provokes are captured.
    t = await createTestApp({ env: { LOG_LEVEL: 'info' }, logStream });
    const admin = await createAdmin(t, 'fuzzadmin');
    const user = await registerUser(t.app, 'fuzzuser');
    const userTokens = await tokensFor(t.app, 'fuzzuser');
    await registerUser(t.app, 'fuzzvictim');
    // Something to find behind each `{id}`: an item of the user's, a client.
    await t.app.inject({ method: 'POST', url: '/items', headers: bearer(userTokens.access_token), payload: { title: 'fuzzed' } });
    await t.app.inject({ method: 'POST', url: '/admin/clients', headers: bearer(admin.access_token), payload: { client_name: 'fuzzed', redirect_uris: ['https://client.example/cb'] } });
    for (const s of [admin.access_token, admin.refresh_token, userTokens.access_token, userTokens.refresh_token]) secrets.add(s);
    selfIds.add(admin.id).add(user.id);
    callers.push({ name: 'user', token: userTokens.access_token }, { name: 'admin', token: admin.access_token });
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    spec = res.json();
  });
  after(() => t.close());

  it('answers no 5xx, leaks nothing in answers, and logs no secret', { timeout: 300_000 }, async (ctx) => {
    const cpu = process.cpuUsage();
    const random = prng(SEED);
    const pick = <T>(list: readonly T[], k: number): T[] => {
      const pool = [...list];
      const out: T[] = [];
      while (out.length < k && pool.length) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
      return out;
    };
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let requests = 0;
    const ops = operations(spec);
    assert.ok(ops.length > 20, `the document lists ${ops.length} operations`);
    // Reads first, deletions last: a caller's fuzz should not end its own data before it is read.
    const order = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    ops.sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method) || a.path.localeCompare(b.path));

    /** A real id for `{param}` of `path`, from the list operation of its collection, that is not one of the callers. */
    const realIds = new Map<string, string>();
    async function realId(path: string, param: string, token: string | undefined): Promise<string | undefined> {
      const collection = path.slice(0, path.indexOf(`/{${param}}`));
      const key = `${collection} ${token ?? ''}`;
      if (!realIds.has(key) && token) {
        const res = await t.app.inject({ method: 'GET', url: `${collection}?limit=100`, headers: bearer(token) });
        const items = res.statusCode === 200 ? ((res.json() as { items?: Array<Record<string, unknown>> }).items ?? []) : [];
        const ids = items.map((i) => i.id ?? i.client_id ?? i.kid ?? i.name).filter((v): v is string => typeof v === 'string');
        realIds.set(key, ids.find((i) => !selfIds.has(i)) ?? ids[0] ?? '');
      }
      return realIds.get(key) || undefined;
    }

    async function send(what: string, req: { method: string; url: string; headers: Record<string, string>; payload?: string }) {
      if (++requests > MAX_REQUESTS) return;
      logged = [];
      const res = await t.app.inject(req);
      if (process.env.WARDEN_FUZZ_TRACE) console.error(res.statusCode, what, req.method, req.url.slice(0, 120));
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const basic = req.headers.authorization?.startsWith('Basic ') ? ` ${req.headers.authorization}` : '';
      const where = `${what}: ${req.method} ${req.url.slice(0, 160)}${basic}${req.payload !== undefined ? ` body ${JSON.stringify(req.payload.slice(0, 120))}` : ''}`;
      if (res.statusCode >= 500 && !(res.statusCode === 503 && res.headers['retry-after'])) failures.push(`${res.statusCode} ← ${where} → ${res.body.slice(0, 200)}`);
      const type = String(res.headers['content-type'] ?? '');
      if (!type.startsWith('text/css')) {
        for (const [name, re] of [
          ['a stack trace', STACK],
          ['a file path', FILE_PATH],
          ['SQL', SQL],
        ] as const) {
          const m = re.exec(res.body);
          if (m) failures.push(`answer carries ${name} (${JSON.stringify(m[0])}) ← ${where}`);
        }
      }
      // Secrets the server handed out are looked for in every later log line too.
      if (type.includes('json') && res.body) {
        const walk = (v: unknown, key = ''): void => {
          if (typeof v === 'string' && SECRET_FIELDS.has(key) && v.length >= 8) secrets.add(v);
          else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
          else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
        };
        try {
          walk(JSON.parse(res.body));
        } catch {
          // not JSON after all
        }
      }
      const lines = logged.join('');
      // The database's own refusal is a safety net (error-handler.ts): input should be refused before it.
      if (lines.includes('the database refused a value')) failures.push(`input reached the database ← ${where}`);
      if (/"level":(50|60)/.test(lines)) failures.push(`an error was logged ← ${where}: ${lines.slice(0, 300)}`);
      for (const s of [...secrets, '$argon2', '$2b$', 'Failed query']) {
        if (lines.includes(s)) failures.push(`log carries a secret (${s.slice(0, 10)}…) ← ${where}`);
      }
    }

    for (const caller of callers) {
      const hints: Record<string, Json> = {
        // Made-up names: a fuzzed login must not lock out the callers' own accounts.
        username: 'fuzz-nobody',
        password: STRONG_PASSWORD,
        current_password: STRONG_PASSWORD,
        grant_type: 'password',
        scope: 'openid',
        token: caller.token ?? 'x',
      };
      for (const op of ops) {
        const headers: Record<string, string> = caller.token ? bearer(caller.token) : {};
        const what = `${caller.name} ${op.method} ${op.path}`;
        const pathParams = op.parameters.filter((p) => p.in === 'path');
        const query = op.parameters.filter((p) => p.in === 'query');
        const baseParams: Record<string, string> = {};
        for (const p of pathParams) baseParams[p.name] = (await realId(op.path, p.name, caller.token)) ?? String(plausible(p.schema, p.name, {}));
        const baseQuery: Record<string, string> = {};
        for (const p of query) baseQuery[p.name] = String(plausible(p.schema, p.name, hints));
        const baseBody = op.body ? plausible(op.body, '', hints) : undefined;
        const fullBody = op.body ? plausible(op.body, '', hints, true) : undefined;

        const url = (params: Record<string, string>, q: Record<string, string | string[]>, rawQuery = '') => {
          let path = op.path;
          for (const [k, v] of Object.entries(params)) path = path.replace(`{${k}}`, v);
          const qs = new URLSearchParams();
          for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
          const text = [qs.toString(), rawQuery].filter(Boolean).join('&');
          return text ? `${path}?${text}` : path;
        };
        const encode = (v: Record<string, string>) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeText(x)]));
        const payload = (body: Value) => (body === undefined ? undefined : op.contentType?.includes('json') ? jsonText(body) : formText(body));
        const send1 = (variant: string, params: Record<string, string>, q: Record<string, string | string[]>, body: Value, rawQuery = '') =>
          send(`${what} [${variant}]`, {
            method: op.method,
            url: url(params, q, rawQuery),
            headers: body === undefined ? headers : { ...headers, 'content-type': op.contentType! },
            payload: payload(body),
          });

        await send1('plausible', encode(baseParams), baseQuery, baseBody);
        for (const p of pathParams) {
          for (const v of [...PATH_VALUES.slice(0, 3), ...pick(PATH_VALUES.slice(3), SAMPLES_PER_FIELD)]) {
            await send1(`path ${p.name}`, { ...encode(baseParams), [p.name]: v }, baseQuery, baseBody);
          }
          for (const v of pick(TEXT, SAMPLES_PER_FIELD)) await send1(`path ${p.name}`, { ...encode(baseParams), [p.name]: encodeText(v) }, baseQuery, baseBody);
        }
        for (const p of query) {
          for (const v of [...ALWAYS_TEXT, ...pick(TEXT, SAMPLES_PER_FIELD)]) await send1(`query ${p.name}`, encode(baseParams), { ...baseQuery, [p.name]: v }, baseBody);
          await send1(`query ${p.name} twice`, encode(baseParams), { ...baseQuery, [p.name]: [baseQuery[p.name]!, 'x'] }, baseBody);
        }
        // Parameters the document does not declare are sent anyway: a route may read them without a schema.
        await send1('undeclared query', encode(baseParams), baseQuery, baseBody, `__proto__=x&constructor%5Bprototype%5D=1&x=%00&y=${'z'.repeat(3000)}`);

        if (baseBody !== undefined) {
          const json = op.contentType?.includes('json') ?? false;
          for (const field of fieldPaths(fullBody!)) {
            const values: Value[] = [...ALWAYS_TEXT, ...pick(TEXT, SAMPLES_PER_FIELD), ...(json ? [...ALWAYS_JSON, ...pick(JSON_VALUES, SAMPLES_PER_FIELD)] : [])];
            for (const v of values) await send1(`body ${field.join('.')}`, encode(baseParams), baseQuery, withField(baseBody, fullBody!, field, v));
          }
          const bodies = json ? [...ALWAYS_JSON_BODIES, ...pick(JSON_BODIES, SAMPLES_PER_BODY)] : [...FORM_BODIES.slice(0, 2), ...pick(FORM_BODIES.slice(2), SAMPLES_PER_BODY)];
          for (const text of bodies) {
            await send(`${what} [whole body]`, { method: op.method, url: url(encode(baseParams), baseQuery), headers: { ...headers, 'content-type': op.contentType! }, payload: text });
          }
          await send(`${what} [wrong content type]`, { method: op.method, url: url(encode(baseParams), baseQuery), headers: { ...headers, 'content-type': json ? 'application/x-www-form-urlencoded' : 'application/json' }, payload: json ? 'a=%00' : '{"a":"\\u0000"}' });
        }

        if (!caller.token) {
          // Hostile credentials: Basic client ids that decode to NUL or to invalid UTF-8, forged and oversized bearers.
          const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
          for (const authorization of [
            `Basic ${b64('\u0000:x')}`,
            `Basic ${b64('a%00b:secret')}`,
            `Basic ${b64('%ED%A0%80:x')}`,
            `Basic ${b64('\u00ed\u00a0\u0080:x')}`,
            `Bearer ${b64('{"alg":"none"}')}.${b64('{"sub":"x"}')}.`,
            `Bearer ${'x'.repeat(4000)}`,
          ]) {
            await send(`${what} [authorization]`, {
              method: op.method,
              url: url(encode(baseParams), baseQuery),
              headers: { authorization, ...(baseBody !== undefined ? { 'content-type': op.contentType! } : {}) },
              payload: payload(baseBody),
            });
          }
        }
      }
    }

    // Lines written after the last answer (background work it started) are checked too.
    for (const s of [...secrets, '$argon2', '$2b$', 'Failed query']) if (logged.join('').includes(s)) failures.push(`log carries a secret (${s.slice(0, 10)}…) after the last request`);
    const summary = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    const { user, system } = process.cpuUsage(cpu);
    ctx.diagnostic(`${requests} requests, seed ${SEED}, ${Math.round((user + system) / 1000)} ms of CPU: ${summary}`);
    assert.ok(requests > 1000 && requests <= MAX_REQUESTS, `${requests} requests`);
    assert.deepEqual(failures.slice(0, 40), [], `${failures.length} failures in ${requests} requests (${summary}):\n${failures.slice(0, 40).join('\n')}`);
  });
});
