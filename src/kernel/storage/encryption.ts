import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { ConfigError, type Config } from '../config/load.js';

/**
 * Secrets that Warden must read back (signing private keys, TOTP secrets) are kept encrypted in the
 * database with AES-256-GCM under a key that is not in the database, so a dump, a backup or a read-only
 * SQL injection does not hand out the means to sign tokens or to compute second factors.
 *
 * The keyring, in order: every ENCRYPTION_KEY entry (the first encrypts), then a key derived from
 * SECRET_KEY by HKDF-SHA256, then — outside production only, when neither is set — a fixed development
 * key (which protects nothing; production refuses to start without one of the two settings).
 * Every ciphertext names its key, so older keys keep decrypting after a rotation.
 *
 * Format: `enc1:<key id>:<iv>:<ciphertext + 16-byte tag>` (base64url). Each value is bound to where it
 * is stored (the AAD, e.g. `mfa_totp.secret:<user id>`): a ciphertext copied into another row fails.
 */
const PREFIX = 'enc1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_SALT = 'warden';
const HKDF_INFO = 'warden encryption at rest v1';
const DEVELOPMENT_KEY_SOURCE = 'warden development key: not secret, refused in production';

interface RingKey {
  id: string;
  key: Buffer;
}

/** A short public name of a key: SHA-256 of a label and the key, 48 bits. Names, never reveals. */
function keyId(key: Buffer): string {
  return createHash('sha256').update('warden-encryption-key-id\0').update(key).digest().subarray(0, 6).toString('base64url');
}

const derive = (secret: string) => Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, 32));

/** Where a sealed value lives (its AAD): a ciphertext moved to another row or column does not open. */
export const sealedAt = {
  signingKey: (kid: string) => `signing_keys.private_key:${kid}`,
  totpSecret: (userId: string) => `mfa_totp.secret:${userId}`,
  idpClientSecret: (providerId: string) => `identity_providers.client_secret:${providerId}`,
};

export class Keyring {
  private readonly keys: RingKey[];

  constructor(keys: Buffer[]) {
    if (!keys.length) throw new Error('a keyring needs at least one key');
    this.keys = keys.map((key) => ({ id: keyId(key), key }));
  }

  static fromConfig(config: Pick<Config, 'encryptionKeys' | 'SECRET_KEY' | 'NODE_ENV'>): Keyring {
    const keys = [...config.encryptionKeys];
    if (config.SECRET_KEY) keys.push(derive(config.SECRET_KEY));
    if (!keys.length && config.NODE_ENV !== 'production') keys.push(derive(DEVELOPMENT_KEY_SOURCE));
    if (!keys.length) throw new ConfigError('ENCRYPTION_KEY', 'is not set (nor SECRET_KEY): nothing to encrypt secrets at rest with');
    return new Keyring(keys);
  }

  /** The id of the key that encrypts (the first). */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  /** True when the value is sealed under the current key (nothing to re-encrypt). */
  isCurrent(value: string): boolean {
    return value.startsWith(`${PREFIX}:${this.currentKeyId}:`);
  }

  seal(plaintext: string, at: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(at));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}:${id}:${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  /**
   * The plaintext of a sealed value. A value without the prefix is a row from before encryption
   * (start-up seals those); it is returned as it is. Throws ConfigError naming ENCRYPTION_KEY when
   * the key is not in the ring or the value does not authenticate under it.
   */
  open(value: string, at: string): string {
    if (!isSealed(value)) return value;
    const [, id, iv, body] = value.split(':');
    const entry = this.keys.find((k) => k.id === id);
    if (!entry || !iv || !body) {
      throw new ConfigError(
        'ENCRYPTION_KEY',
        `secrets in the database are encrypted with key ${id}, which neither ENCRYPTION_KEY nor SECRET_KEY provides; start with the key they were encrypted with`,
      );
    }
    try {
      const raw = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(at));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(0, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new ConfigError('ENCRYPTION_KEY', `a secret encrypted with key ${id} does not decrypt (altered in the database, or moved from another row)`);
    }
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(`${PREFIX}:`);
}
