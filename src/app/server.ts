import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { Config } from '../kernel/config/load.js';
import { serverUrl } from './config.js';
import { wardenVersion } from '../kernel/config/version.js';
import { adminUsernames, bootstrapAdmin, type BootstrapOutcome } from '../features/users/first-admin.js';
import { buildApp, type App, type BuildOptions } from './app.js';
import { nodeServerOptions } from '../platform/limits.js';
import { flushLog } from '../platform/logging.js';
import { startBanner } from './start-banner.js';

/** The port cannot be had: one line naming the setting, before anything was created. */
export class PortUnavailableError extends Error {
  constructor(variable: 'PORT' | 'HTTP_REDIRECT_PORT', host: string, port: number, code: string | undefined) {
    super(
      code === 'EADDRINUSE'
        ? `${variable}: port ${port} on ${host} is already in use by another program; stop it or choose another port (${variable}=${port === 8420 ? 8421 : port + 1})`
        : code === 'EACCES'
          ? `${variable}: port ${port} on ${host} needs privileges this process lacks; choose a port above 1023`
          : code === 'EADDRNOTAVAIL'
            ? `HOST: ${host} is not an address of this machine`
            : `${variable}: cannot listen on ${host}:${port} (${code ?? 'unknown error'})`,
    );
    this.name = 'PortUnavailableError';
  }
}

/**
 * Try the port before the database is opened or DATA_DIR created: a port clash found after seconds of
 * start-up, with a data directory left behind, is what a newcomer met with uvicorn on 8000.
 */
async function assertPortFree(variable: 'PORT' | 'HTTP_REDIRECT_PORT', host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (e: NodeJS.ErrnoException) => reject(new PortUnavailableError(variable, host, port, e.code)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Where start-up progress and the banner go (a human reads them; the JSON log stays machine-readable). */
export type Print = (line: string) => void;
const printToStderr: Print = (line) => process.stderr.write(`${line}\n`);

export interface RunningServer {
  app: App;
  url: string;
  close(): Promise<void>;
}

/**
 * Listen. With TLS_CERT_FILE/TLS_KEY_FILE: HTTPS, TLS 1.2+ only, and optionally a plain port that only
 * redirects. SIGTERM/SIGINT: stop accepting, finish in-flight requests (bounded), close the database, exit 0.
 */
export async function startServer(
  config: Config,
  opts: { handleSignals?: boolean; build?: Omit<BuildOptions, 'serverOptions'>; print?: Print } = {},
): Promise<RunningServer> {
  const print = opts.print ?? printToStderr;
  await assertPortFree('PORT', config.HOST, config.PORT);
  if (config.tls && config.HTTP_REDIRECT_PORT) await assertPortFree('HTTP_REDIRECT_PORT', config.HOST, config.HTTP_REDIRECT_PORT);
  const https = config.tls
    ? {
        ...nodeServerOptions(config),
        cert: readFileSync(config.TLS_CERT_FILE!),
        key: readFileSync(config.TLS_KEY_FILE!),
        minVersion: 'TLSv1.2' as const,
        // Forward-secret AEAD suites only (Mozilla "intermediate").
        ciphers: [
          'TLS_AES_128_GCM_SHA256',
          'TLS_AES_256_GCM_SHA384',
          'TLS_CHACHA20_POLY1305_SHA256',
          'ECDHE-ECDSA-AES128-GCM-SHA256',
          'ECDHE-RSA-AES128-GCM-SHA256',
          'ECDHE-ECDSA-AES256-GCM-SHA384',
          'ECDHE-RSA-AES256-GCM-SHA384',
          'ECDHE-ECDSA-CHACHA20-POLY1305',
          'ECDHE-RSA-CHACHA20-POLY1305',
        ].join(':'),
        honorCipherOrder: true,
      }
    : undefined;
  const app = await buildApp(config, { progress: print, ...opts.build, serverOptions: https ? { https } : {} });
  let bootstrap: BootstrapOutcome;
  try {
    bootstrap = await bootstrapAdmin(config, app.warden.db, app.warden.users);
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (e) {
    await app.close().catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new PortUnavailableError('PORT', config.HOST, config.PORT, code);
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = serverUrl(config, port, config.tls);

  let redirect: ReturnType<typeof createServer> | undefined;
  if (config.tls && config.HTTP_REDIRECT_PORT) {
    const target = new URL(config.issuer);
    redirect = createServer((req, res) => {
      res.writeHead(308, { location: `https://${target.host}${req.url ?? '/'}`, 'content-length': '0' });
      res.end();
    });
    await new Promise<void>((resolve) => redirect!.listen(config.HTTP_REDIRECT_PORT, config.HOST, resolve));
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      redirect?.close();
      const timer = setTimeout(() => {
        app.log.warn('shutdown timeout: closing remaining connections');
        app.server.closeAllConnections();
      }, config.SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      // Stops accepting, lets in-flight requests finish, then runs onClose hooks (database close).
      await app.close();
      clearTimeout(timer);
      flushLog();
    })());

  if (opts.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        app.log.info({ signal }, 'shutting down');
        close().then(
          () => process.exit(0),
          (e) => {
            app.log.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  const admins = await adminUsernames(app.warden.db);
  // The setup link is opened from this machine only, so it is offered only where loopback reaches.
  const loopback = /^(127\.|::1$|localhost$|0\.0\.0\.0$|::$)/.test(config.HOST);
  const setupUrl =
    admins.count === 0 && loopback ? `${serverUrl({ HOST: config.HOST.includes(':') ? '::1' : '127.0.0.1' }, port, config.tls)}/setup?token=${app.setupLink.issue()}` : undefined;
  for (const line of startBanner({
    version: wardenVersion(),
    url,
    config,
    accountPage: app.hasRoute({ method: 'GET', url: '/account' }),
    admins,
    bootstrap: bootstrap.kind === 'created' ? { created: bootstrap.username } : bootstrap.kind === 'user-exists' ? { userExists: bootstrap.username } : undefined,
    setupUrl,
  })) {
    print(line);
  }
  if (bootstrap.kind === 'user-exists') app.log.warn({ username: bootstrap.username }, 'BOOTSTRAP_ADMIN_*: a user of that name or e-mail exists; it was not changed');
  if (bootstrap.kind === 'created') app.log.info({ username: bootstrap.username }, 'first admin created from BOOTSTRAP_ADMIN_*');
  app.log.info({ url, database: app.warden.database.kind, state: app.warden.state.kind, admins: admins.count }, 'Warden is listening');
  return { app, url, close };
}
