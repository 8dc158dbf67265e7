import type { Config } from '../kernel/config/load.js';

/** Longest request target accepted (RFC 9110 §4.1 recommends supporting at least 8000 octets); 414 beyond, checked with the security headers. */
export const MAX_URL_LENGTH = 8192;
/** Request line + headers; node answers 431 beyond it (its default, written down so it is a decision). */
export const MAX_HEADER_BYTES = 16384;

/**
 * node:http options that bound slow and oversized requests. node checks request/header timeouts only
 * every `connectionsCheckingInterval` (30 s by default), so a slow-loris client could hold a socket
 * far past REQUEST_TIMEOUT_MS; checking at a quarter of the timeout ends it within 1.25x.
 */
export function nodeServerOptions(config: Pick<Config, 'REQUEST_TIMEOUT_MS'>) {
  return {
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    headersTimeout: config.REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(config.REQUEST_TIMEOUT_MS / 4))),
  };
}
