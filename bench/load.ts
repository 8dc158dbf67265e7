/**
 * One load run in its own process, so the load generator never shares an event loop with the
 * orchestrator or with another run going on at the same time. Input: a LoadSpec as JSON in argv[2].
 * Output: one LoadResult as JSON on stdout.
 */
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  /** Requests/s over all connections (unset: as fast as the server answers). */
  rate?: number;
  /** Request bodies used in turn (e.g. logins spread over many accounts, as real traffic is). */
  bodies?: string[];
  /** refresh_token rotation: each request presents a token an earlier answer returned (one per connection at least). */
  refreshTokens?: string[];
}

export interface LoadResult {
  /** Successful (2xx) answers per second. */
  ok: number;
  /** Every answer per second. */
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  /** 503 answers that carried Retry-After (load shedding). */
  shed: number;
  errors: number;
  timeouts: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  let shed = 0;
  const spare = [...(spec.refreshTokens ?? [])];
  const rotating = spec.refreshTokens !== undefined;
  const request: Record<string, unknown> = {
    method: spec.method ?? 'GET',
    headers: spec.headers,
    body: spec.body,
    onResponse: (status: number, body: string, _context: unknown, headers?: Record<string, string> | string[]) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 503 && hasRetryAfter(headers)) shed++;
      // The context is reset after every request, so rotated tokens go back to a shared pool instead.
      if (rotating && status === 200) spare.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
    },
  };
  if (spec.bodies?.length) {
    const bodies = spec.bodies;
    let i = 0;
    request.setupRequest = (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] });
  }
  if (rotating) {
    request.setupRequest = (req: Record<string, unknown>) => ({
      ...req,
      body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(spare.shift() ?? '')}`,
    });
  }
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    overallRate: spec.rate,
    timeout: 10,
    requests: [request as never],
  });
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  const ok = Object.entries(statuses).reduce((a, [s, n]) => a + (s.startsWith('2') ? n : 0), 0);
  return {
    ok: ok / spec.seconds,
    rps: total / spec.seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statuses,
    shed,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

function hasRetryAfter(headers: Record<string, string> | string[] | undefined) {
  if (!headers) return false;
  // autocannon hands raw headers as a flat [name, value, ...] list.
  if (Array.isArray(headers)) return headers.some((h, i) => i % 2 === 0 && String(h).toLowerCase() === 'retry-after');
  return Object.keys(headers).some((h) => h.toLowerCase() === 'retry-after');
}

if (process.argv[1]?.endsWith('load.ts') && process.argv[2]) {
  const result = await runLoad(JSON.parse(process.argv[2]) as LoadSpec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
