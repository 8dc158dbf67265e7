import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServerProcess, type ServerProcess } from '../support/process.js';

const PASSWORD = 'correct horse battery staple';

/** Send a request's head and the first half of its body now; the rest when `finish` is called. */
function slowRequest(port: number) {
  const body = JSON.stringify({ username: 'inflight', email: 'inflight@example.com', password: PASSWORD });
  const half = Math.floor(body.length / 2);
  const socket = connect({ host: '127.0.0.1', port });
  let data = '';
  socket.on('data', (d) => (data += d));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  const opened = new Promise<void>((resolve) =>
    socket.on('connect', () => {
      socket.write(`POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
      socket.write(body.slice(0, half));
      resolve();
    }),
  );
  return {
    opened,
    finish: () => socket.write(body.slice(half)),
    response: async () => {
      await closed;
      return data;
    },
  };
}

function exited(p: ServerProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    if (p.child.exitCode !== null) return resolve({ code: p.child.exitCode, ms: 0 });
    p.child.once('exit', (code) => resolve({ code, ms: Date.now() - started }));
  });
}

describe('graceful shutdown (a real `warden serve` process)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'warden-shutdown-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGTERM: stops accepting, finishes the in-flight request, closes the database, exits 0', async () => {
    const server = await startServerProcess({ DATA_DIR: join(dir, 'a'), SHUTDOWN_TIMEOUT_MS: '10000', RATE_LIMIT_ENABLED: 'false' });
    const port = Number(new URL(server.url).port);
    try {
      const inflight = slowRequest(port);
      await inflight.opened;
      await new Promise((r) => setTimeout(r, 300));
      const exit = exited(server);
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      // New connections are refused while the in-flight request is still running.
      await assert.rejects(fetch(`${server.url}/healthz`));
      assert.equal(server.child.exitCode, null, 'still running: it waits for the request');
      inflight.finish();
      const answer = await inflight.response();
      assert.match(answer, /^HTTP\/1\.1 201/, answer.slice(0, 200));
      const { code } = await exit;
      assert.equal(code, 0);
      assert.match(server.log(), /shutting down/);
    } finally {
      await server.stop('SIGKILL');
    }
    // The database was closed cleanly: the data dir opens again, with the user the last request created.
    const again = await startServerProcess({ DATA_DIR: join(dir, 'a') });
    try {
      const res = await fetch(`${again.url}/token`, { method: 'POST', body: new URLSearchParams({ username: 'inflight', password: PASSWORD }) });
      assert.equal(res.status, 200);
    } finally {
      assert.equal(await again.stop('SIGTERM'), 0);
    }
  });

  it('SIGTERM with a request that never finishes: exits 0 once SHUTDOWN_TIMEOUT_MS has passed', async () => {
    const server = await startServerProcess({ DATA_DIR: join(dir, 'b'), SHUTDOWN_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '60000' });
    const port = Number(new URL(server.url).port);
    try {
      const stuck = slowRequest(port);
      await stuck.opened;
      await new Promise((r) => setTimeout(r, 300));
      const exit = exited(server);
      server.child.kill('SIGTERM');
      const { code, ms } = await exit;
      assert.equal(code, 0);
      assert.ok(ms >= 900 && ms < 8000, `exited after ${ms} ms`);
      assert.match(server.log(), /shutdown timeout/);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
