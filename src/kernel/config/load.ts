import { existsSync } from 'node:fs';
import type { Settings } from './settings.js';

/**
 * The frozen, typed configuration every module receives: every setting (Settings, each section merged in by its
 * owner) and the values derived from them, computed once by parseConfig (src/app/config.ts).
 */
export interface Config extends Settings {
  readonly issuer: string;
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly corsOrigins: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly adminAllowedNetworks: readonly string[];
  readonly metricsAllowedNetworks: readonly string[];
  readonly audience: string | undefined;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly hashConcurrency: number;
  readonly tls: boolean;
  /** ENCRYPTION_KEY decoded, in order: the first encrypts, every one decrypts. */
  readonly encryptionKeys: readonly Buffer[];
}

export interface ConfigProblem {
  readonly variable: string;
  readonly reason: string;
}

/**
 * Every wrong setting at once (fixing them one start at a time is slow), each naming the variable and
 * what it accepts or how to fix it. `variable` is the first one's, for callers that name one.
 */
export class ConfigError extends Error {
  readonly variable: string;
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[] | string, reason?: string) {
    const list = typeof problems === 'string' ? [{ variable: problems, reason: reason ?? 'is invalid' }] : problems;
    super(
      list.length === 1
        ? `${list[0]!.variable}: ${list[0]!.reason}`
        : `${list.length} settings need fixing:\n${list.map((p) => `  ${p.variable}: ${p.reason}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.variable = list[0]!.variable;
    this.problems = list;
  }
}

/** process.env, with ./.env loaded into it when present (never overriding the real environment). */
export function processEnvironment(): NodeJS.ProcessEnv {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}
