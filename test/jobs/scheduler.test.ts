import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { createTestApp, type TestApp } from '../support/app.js';

/** Log lines the app wrote, parsed. */
function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

async function until(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

describe('job scheduler', () => {
  let t: TestApp;
  const log = captureLog();
  before(async () => {
    t = await createTestApp({ env: { LOG_LEVEL: 'info' }, logStream: log.stream });
  });
  after(() => t.close());

  it('lists every built-in job once, with the single-runner ones marked', () => {
    const jobs = Object.fromEntries(t.app.jobs.list().map((j) => [j.name, { everyMs: j.everyMs, single: j.singleRunner ?? false }]));
    assert.deepEqual(jobs, {
      'audit-events.prune': { everyMs: 3_600_000, single: true },
      'backchannel-logouts.deliver': { everyMs: 1000, single: false },
      'signing-keys.maintain': { everyMs: 600_000, single: true },
      'signing-keys.reload': { everyMs: 600_000, single: false },
      'authorization-codes.prune': { everyMs: 600_000, single: true },
      'refresh-tokens.prune': { everyMs: 600_000, single: true },
      'revoked-tokens.prune': { everyMs: 600_000, single: true },
      'sessions.prune': { everyMs: 600_000, single: true },
      'known-devices.prune': { everyMs: 600_000, single: true },
      'account-tokens.prune': { everyMs: 3_600_000, single: true },
      'console-sessions.prune': { everyMs: 3_600_000, single: true },
    });
  });

  it('refuses a second job of the same name', () => {
    assert.throws(() => t.app.jobs.register({ name: 'sessions.prune', everyMs: 1000, run: async () => {} }), /registered twice/);
  });

  it('runs a job at its interval, keeps running it after a failure (logged, counted), and does not overlap runs', async () => {
    let runs = 0;
    let failures = 0;
    t.app.jobs.register({
      name: 'test.flaky',
      everyMs: 20,
      run: async () => {
        runs++;
        if (runs === 2) {
          failures++;
          throw Object.assign(new Error('boom'), { secret: 's3cr3t-value' });
        }
        return { touched: 1 };
      },
    });
    await until(() => runs >= 4);
    assert.equal(failures, 1);
    const failed = log.lines.find((l) => l.job === 'test.flaky' && l.level === 50);
    assert.ok(failed, 'the failure is logged');
    assert.match(String(failed.msg), /runs again/);
    assert.doesNotMatch(JSON.stringify(failed), /s3cr3t-value/);
    assert.ok(log.lines.some((l) => l.job === 'test.flaky' && l.touched === 1));

    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /warden_job_runs_total\{job="test\.flaky",outcome="failed"\} 1\n/);
    assert.match(metrics.body, /warden_job_runs_total\{job="test\.flaky",outcome="ok"\} [3-9]/);
    assert.match(metrics.body, /warden_job_duration_seconds_count\{job="test\.flaky"\} [4-9]/);
  });

  it('skips a run asked for while the job is still running', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.app.jobs.register({ name: 'test.slow', everyMs: 3_600_000, run: () => gate });
    const first = t.app.jobs.runNow('test.slow');
    assert.equal(await t.app.jobs.runNow('test.slow'), 'skipped');
    release();
    assert.equal(await first, 'ok');
  });

  it('stops on close: no run after it, and close waits for the run under way', async () => {
    const other = await createTestApp();
    let runs = 0;
    let finished = false;
    other.app.jobs.register({
      name: 'test.tick',
      everyMs: 10,
      run: async () => {
        runs++;
        await sleep(30);
        finished = true;
      },
    });
    await until(() => runs >= 1);
    await other.app.close();
    assert.equal(finished, true, 'close waited for the run under way');
    const seen = runs;
    await sleep(60);
    assert.equal(runs, seen, 'no run after close');
    await other.warden.close();
  });
});
