import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/app/config.js';
import { ConfigError } from '../../src/kernel/config/load.js';

function fails(env: Record<string, string>, variable: string, reason?: RegExp) {
  assert.throws(
    () => parseConfig(env),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.variable === variable && (!reason || reason.test(p.reason))),
    `expected ${variable} to be refused`,
  );
}

describe('configuration', () => {
  it('has the contract defaults', () => {
    const c = parseConfig({});
    assert.equal(c.PORT, 8420);
    assert.equal(c.HOST, '127.0.0.1');
    assert.equal(c.issuer, 'http://127.0.0.1:8420');
    assert.equal(c.REDIS_PREFIX, 'warden:');
    assert.equal(c.DATABASE_CONNECT_TIMEOUT_SECONDS, 30);
    assert.equal(c.audience, 'warden');
    assert.equal(c.JWT_SUBJECT, 'id');
    assert.equal(c.JWT_ALGORITHM, 'EdDSA');
    assert.equal(c.ACCESS_TOKEN_EXPIRE_MINUTES, 15);
    assert.equal(c.REFRESH_TOKEN_EXPIRE_DAYS, 30);
    assert.equal(c.REFRESH_REUSE_GRACE_SECONDS, 5);
    assert.equal(c.REGISTRATION, 'open');
    assert.deepEqual(c.corsOrigins, []);
    assert.ok(Object.isFrozen(c));
  });

  it('names the variable and the reason for a bad value', () => {
    fails({ PORT: 'eighty' }, 'PORT');
    fails({ PORT: '70000' }, 'PORT');
    fails({ JWT_ALGORITHM: 'none' }, 'JWT_ALGORITHM');
    fails({ REGISTRATION: 'maybe' }, 'REGISTRATION');
    fails({ ISSUER: 'not a url' }, 'ISSUER');
    fails({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL');
    fails({ TRUSTED_PROXIES: '10.0.0.0/99' }, 'TRUSTED_PROXIES');
    fails({ CORS_ORIGINS: 'https://a.example/path' }, 'CORS_ORIGINS');
    fails({ TLS_CERT_FILE: '/x.pem' }, 'TLS_KEY_FILE');
  });

  // Issue 17 item 2: a verifier written with the printed address must accept the tokens' iss.
  it('defaults ISSUER to the address the server prints (http://HOST:PORT)', () => {
    assert.equal(parseConfig({ HOST: '127.0.0.1', PORT: '9123' }).issuer, 'http://127.0.0.1:9123');
    assert.equal(parseConfig({ HOST: '::1', PORT: '9123' }).issuer, 'http://[::1]:9123');
    assert.equal(parseConfig({ HOST: '0.0.0.0', PORT: '9123' }).issuer, 'http://localhost:9123');
    assert.equal(parseConfig({ HOST: '127.0.0.1', PORT: '9123', ISSUER: 'https://id.example.com/' }).issuer, 'https://id.example.com');
  });

  // Issue 17 item 3: uvicorn (8000), Flask (5000), Node/Rails (3000) and 8080 are what a team already runs.
  it('listens by default on a port the usual development servers do not use', () => {
    assert.ok(![3000, 5000, 8000, 8080].includes(parseConfig({}).PORT));
  });

  // Issue 17 item 5: a bad value says what is allowed; every problem is listed at once.
  it('says the allowed values of a bad setting', () => {
    const message = (env: Record<string, string>) => {
      try {
        parseConfig(env);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    assert.equal(message({ LOG_LEVEL: 'verbose' }), 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")');
    assert.equal(message({ PORT: 'eighty' }), 'PORT: must be a whole number from 0 to 65535 (got "eighty")');
    assert.equal(message({ RATE_LIMIT_ENABLED: 'maybe' }), 'RATE_LIMIT_ENABLED: must be true or false (got "maybe")');
    assert.equal(
      message({ LOG_LEVEL: 'verbose', JWT_SUBJECT: 'email' }),
      [
        '2 settings need fixing:',
        '  JWT_SUBJECT: must be one of id, username (got "email")',
        '  LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
      ].join('\n'),
    );
  });

  it('BOOTSTRAP_ADMIN_* go together', () => {
    fails({ BOOTSTRAP_ADMIN_USERNAME: 'root' }, 'BOOTSTRAP_ADMIN_USERNAME', /set all three or none/);
    assert.equal(parseConfig({ BOOTSTRAP_ADMIN_USERNAME: 'root', BOOTSTRAP_ADMIN_EMAIL: 'r@example.com', BOOTSTRAP_ADMIN_PASSWORD: 'p'.repeat(16) }).BOOTSTRAP_ADMIN_USERNAME, 'root');
  });

  it('HS256 needs a SECRET_KEY of at least 32 bytes', () => {
    fails({ JWT_ALGORITHM: 'HS256' }, 'SECRET_KEY');
    fails({ JWT_ALGORITHM: 'HS256', SECRET_KEY: 'short' }, 'SECRET_KEY', /32 bytes/);
    assert.equal(parseConfig({ JWT_ALGORITHM: 'HS256', SECRET_KEY: 'k'.repeat(32) }).JWT_ALGORITHM, 'HS256');
  });

  it('ENCRYPTION_KEY: a comma list of 32-byte keys in base64 or hex, never echoed when refused', () => {
    const b64 = Buffer.alloc(32, 1).toString('base64');
    const hex = Buffer.alloc(32, 2).toString('hex');
    const url = Buffer.alloc(32, 0xfb).toString('base64url');
    assert.deepEqual(
      parseConfig({ ENCRYPTION_KEY: ` ${b64}, ${hex},${url}` }).encryptionKeys.map((k) => k.toString('hex')),
      [Buffer.alloc(32, 1).toString('hex'), hex, Buffer.alloc(32, 0xfb).toString('hex')],
    );
    fails({ ENCRYPTION_KEY: `${b64},${Buffer.alloc(16).toString('base64')}` }, 'ENCRYPTION_KEY', /^key 2 is not 32 bytes in base64 or hex/);
    fails({ ENCRYPTION_KEY: 'correct horse battery staple' }, 'ENCRYPTION_KEY', /^key 1 is not 32 bytes[^"]*$/);
  });

  it('JWT_AUDIENCE= (empty) means tokens carry no aud', () => {
    assert.equal(parseConfig({ JWT_AUDIENCE: '' }).audience, undefined);
  });

  it('refuses "*" with credentials for CORS', () => {
    fails({ CORS_ORIGINS: '*', CORS_CREDENTIALS: 'true' }, 'CORS_ORIGINS');
  });

  describe('NODE_ENV=production refuses insecure settings and says why', () => {
    const prod = { NODE_ENV: 'production', ISSUER: 'https://auth.example.com' };
    it('a well-known or short SECRET_KEY', () => {
      fails({ ...prod, SECRET_KEY: 'your-secret-key' }, 'SECRET_KEY', /short or a well-known default/);
      fails({ ...prod, SECRET_KEY: 'abc' }, 'SECRET_KEY');
    });
    it('an http:// issuer without TLS or a trusted proxy', () => {
      fails({ NODE_ENV: 'production', ISSUER: 'http://auth.example.com' }, 'ISSUER', /clear text/);
      assert.ok(parseConfig({ NODE_ENV: 'production', ISSUER: 'http://auth.example.com', TRUSTED_PROXIES: '10.0.0.1', SECRET_KEY: 'x'.repeat(48) }));
    });
    it('CORS_ORIGINS=*', () => {
      fails({ ...prod, CORS_ORIGINS: '*' }, 'CORS_ORIGINS');
    });
    it('no key to encrypt secrets at rest: neither ENCRYPTION_KEY nor SECRET_KEY', () => {
      fails(prod, 'ENCRYPTION_KEY', /^is needed in production \(or SECRET_KEY\)/);
      assert.equal(parseConfig({ ...prod, ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).encryptionKeys.length, 1);
    });
    it('lists every refusal at once, each with its fix', () => {
      assert.throws(
        () => parseConfig({ NODE_ENV: 'production', ISSUER: 'http://auth.example.com', SECRET_KEY: 'changeme', CORS_ORIGINS: '*', LOG_LEVEL: 'loud' }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.deepEqual(
            e.problems.map((p) => p.variable),
            ['LOG_LEVEL', 'SECRET_KEY', 'ISSUER', 'CORS_ORIGINS'],
          );
          assert.equal(e.problems[1]!.reason, 'is short or a well-known default; use at least 32 random bytes (openssl rand -base64 48)');
          assert.match(e.problems[2]!.reason, /set ISSUER=https:\/\/… and either TLS_CERT_FILE\/TLS_KEY_FILE or TRUSTED_PROXIES=/);
          assert.match(e.problems[3]!.reason, /list the origins \(CORS_ORIGINS=https:\/\/app\.example\.com/);
          assert.match(e.message, /^4 settings need fixing:\n {2}LOG_LEVEL: must be one of /);
          return true;
        },
      );
    });
    it('accepts a sound production setup', () => {
      assert.equal(parseConfig({ ...prod, SECRET_KEY: 'x'.repeat(48) }).NODE_ENV, 'production');
    });
  });
});
