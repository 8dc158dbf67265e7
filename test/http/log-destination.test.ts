import { ROOT } from '../support/process.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it, mock } from 'node:test';
import pino from 'pino';
import { batchedDestination, type LineSink } from '../../src/platform/log-destination.js';

function sink() {
  const chunks: string[] = [];
  const s: LineSink & { chunks: string[]; syncFlushes: number } = {
    chunks,
    syncFlushes: 0,
    write: (c: string) => chunks.push(c) > 0,
    flushSync: () => void s.syncFlushes++,
  };
  return s;
}

const lines = (chunks: string[]) => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; level: number });

describe('batched log destination', () => {
  it('holds info lines for at most flushMs, then writes them as one chunk, in order', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const out = sink();
    const log = pino({ level: 'info' }, batchedDestination(out, { flushMs: 100 }));
    log.info('one');
    log.info('two');
    assert.equal(out.chunks.length, 0, 'nothing written yet');
    t.mock.timers.tick(99);
    assert.equal(out.chunks.length, 0);
    t.mock.timers.tick(1);
    assert.equal(out.chunks.length, 1, 'one write for both');
    assert.deepEqual(lines(out.chunks).map((l) => l.msg), ['one', 'two']);
  });

  it('writes a warn line at once, with everything before it', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const out = sink();
    const log = pino({ level: 'info' }, batchedDestination(out, { flushMs: 100 }));
    log.info('before');
    log.warn('admin access refused');
    assert.deepEqual(lines(out.chunks).map((l) => l.msg), ['before', 'admin access refused']);
    log.error('and errors');
    assert.equal(lines(out.chunks).at(-1)!.msg, 'and errors');
  });

  it('writes when the batch is large, and every line at once with flushMs 0', () => {
    const big = sink();
    const d = batchedDestination(big, { flushMs: 60_000, maxBytes: 1000 });
    for (let i = 0; i < 20; i++) d.write(`${JSON.stringify({ level: 30, msg: 'x'.repeat(90) })}\n`);
    assert.ok(big.chunks.length >= 1 && big.chunks.length <= 2, String(big.chunks.length));
    d.flush();
    assert.equal(lines(big.chunks).length, 20);

    const each = sink();
    const log = pino({ level: 'info' }, batchedDestination(each, { flushMs: 0 }));
    log.info('a');
    log.info('b');
    assert.equal(each.chunks.length, 2);
  });

  it('flush(true) writes what is held and flushes the sink synchronously', () => {
    const out = sink();
    const d = batchedDestination(out, { flushMs: 60_000 });
    d.write('{"level":30,"msg":"held"}\n');
    d.flush(true);
    assert.equal(out.syncFlushes, 1);
    assert.deepEqual(lines(out.chunks).map((l) => l.msg), ['held']);
    mock.timers.reset();
  });

  for (const [how, code] of [
    ['exits', 'process.exit(0)'],
    ['crashes', 'throw new Error("boom")'],
  ] as const) {
    it(`standard output: lines held when the process ${how} are written`, () => {
      const script = `
        import pino from 'pino';
        import { stdoutDestination } from './src/platform/log-destination.ts';
        const log = pino({ level: 'info' }, stdoutDestination(60000));
        log.info('last words');
        ${code};`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
      assert.deepEqual(lines([r.stdout]).map((l) => l.msg), ['last words'], r.stderr);
    });
  }
});
