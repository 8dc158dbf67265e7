import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { HSTS } from '../../src/platform/security-headers.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { createWarden, type Warden } from '../../src/app/warden.js';
import { testConfig, testDatabase } from '../support/app.js';
import { freePort } from '../support/process.js';

/** A self-signed certificate for 127.0.0.1, made for this run with the openssl CLI. */
function selfSigned(dir: string) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

function handshake(port: number, opts: ConnectionOptions): Promise<{ protocol: string | null; cipher: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: undefined, ...opts }, () => {
      const r = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(r);
    });
    socket.once('error', reject);
  });
}

/** Raw bytes over a socket; resolves with what the server sent before closing (or after `waitMs`). */
function raw(port: number, chunks: Array<string | { waitMs: number }>, opts: { maxMs?: number } = {}): Promise<{ data: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = netConnect({ host: '127.0.0.1', port });
    let data = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ data, closed, ms: Date.now() - started });
    };
    socket.on('data', (d) => (data += d));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    const timer = setTimeout(() => finish(false), opts.maxMs ?? 10_000);
    timer.unref();
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (done) return;
        if (typeof c === 'string') socket.write(c);
        else await new Promise((r) => setTimeout(r, c.waitMs));
      }
    });
  });
}

describe('HTTPS', () => {
  let dir: string;
  let server: RunningServer;
  let warden: Warden;
  let port: number;
  let redirectPort: number;
  let ca: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-tls-'));
    const { cert, key } = selfSigned(dir);
    ca = readFileSync(cert);
    redirectPort = await freePort();
    const config = testConfig({ PORT: '0', TLS_CERT_FILE: cert, TLS_KEY_FILE: key, HTTP_REDIRECT_PORT: String(redirectPort), ISSUER: 'https://id.example.test' });
    warden = await createWarden(config, { database: await testDatabase(), migrate: false });
    server = await startServer(config, { build: { warden } });
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    await server.close();
    await warden.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes a TLS handshake and answers with HSTS', async () => {
    const res = await new Promise<{ status: number; hsts: unknown }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/healthz', ca }, (r) => {
        r.resume();
        resolve({ status: r.statusCode!, hsts: r.headers['strict-transport-security'] });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 200);
    assert.equal(res.hsts, HSTS);
  });

  it('negotiates TLS 1.3, and TLS 1.2 only with a forward-secret AEAD suite', async () => {
    assert.equal((await handshake(port, { ca })).protocol, 'TLSv1.3');
    const tls12 = await handshake(port, { ca, maxVersion: 'TLSv1.2' });
    assert.equal(tls12.protocol, 'TLSv1.2');
    assert.match(tls12.cipher, /^ECDHE-.*(GCM|CHACHA20)/);
    // A client offering only a CBC / non-forward-secret suite gets no session.
    await assert.rejects(handshake(port, { ca, maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA256:AES256-SHA' }));
  });

  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    it(`refuses ${version}`, async () => {
      // The client would accept the old protocol (security level 0 lifts OpenSSL's own floor): only the server refuses.
      await assert.rejects(handshake(port, { ca, minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' }));
    });
  }

  it('redirects the plain port to HTTPS and does nothing else there', async () => {
    const res = await new Promise<{ status: number; location: unknown }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: redirectPort, path: '/users/me?x=1', method: 'GET' }, (r) => {
        r.resume();
        resolve({ status: r.statusCode!, location: r.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 308);
    assert.equal(res.location, 'https://id.example.test/users/me?x=1');
  });
});

describe('limits over a real socket', () => {
  let server: RunningServer;
  let warden: Warden;
  let port: number;
  before(async () => {
    const config = testConfig({ PORT: '0', REQUEST_TIMEOUT_MS: '1000', BODY_LIMIT: '2048' });
    warden = await createWarden(config, { database: await testDatabase(), migrate: false });
    server = await startServer(config, { build: { warden } });
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    await server.close();
    await warden.close();
  });

  it('answers 413 past BODY_LIMIT, with security headers', async () => {
    const body = JSON.stringify({ username: 'big', email: 'big@example.com', password: 'x'.repeat(4000) });
    const res = await fetch(`${server.url}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).code, 'body_too_large');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  it('answers 413 to a chunked body that grows past the limit (no Content-Length to check up front)', async () => {
    const chunk = 'a'.repeat(1000);
    const r = await raw(port, [
      'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      ...Array.from({ length: 4 }, () => `${(1000).toString(16)}\r\n${chunk}\r\n`),
      '0\r\n\r\n',
    ]);
    assert.match(r.data, /^HTTP\/1\.1 413/);
  });

  it('answers 431 to oversized headers', async () => {
    const r = await raw(port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`]);
    assert.match(r.data, /^HTTP\/1\.1 431/);
  });

  it('answers 414 to an over-long URL', async () => {
    const res = await fetch(`${server.url}/healthz?q=${'u'.repeat(9000)}`);
    assert.equal(res.status, 414);
    assert.equal((await res.json()).code, 'uri_too_long');
  });

  it('ends a slow-loris request (headers trickling in) soon after REQUEST_TIMEOUT_MS, and keeps serving', async () => {
    const trickle: Array<string | { waitMs: number }> = ['GET /healthz HTTP/1.1\r\nHost: x\r\n'];
    // One header byte every 200 ms: never idle long enough for the idle timeout, never complete.
    for (let i = 0; i < 40; i++) trickle.push(`X-${i}: y\r\n`, { waitMs: 200 });
    const r = await raw(port, trickle, { maxMs: 6000 });
    assert.equal(r.closed, true, 'the server closed the connection');
    assert.ok(r.ms < 4000, `closed after ${r.ms} ms`);
    assert.ok(r.data === '' || /^HTTP\/1\.1 408/.test(r.data), r.data.slice(0, 40));
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('ends a request whose body never finishes, and keeps serving', async () => {
    const r = await raw(port, ['POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":', { waitMs: 5000 }], { maxMs: 6000 });
    assert.equal(r.closed, true);
    assert.ok(r.ms < 4000, `closed after ${r.ms} ms`);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});
