import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Config } from '../config/load.js';
import { buildApp, type App, type BuildOptions } from './app.js';
import { nodeServerOptions } from './limits.js';
import { flushLog } from './logging.js';

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
  opts: { handleSignals?: boolean; build?: Omit<BuildOptions, 'serverOptions'> } = {},
): Promise<RunningServer> {
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
  const app = await buildApp(config, { ...opts.build, serverOptions: https ? { https } : {} });
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `${config.tls ? 'https' : 'http'}://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;

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
  app.log.info({ url, database: app.warden.database.kind, state: app.warden.state.kind }, 'Warden is listening');
  return { app, url, close };
}
