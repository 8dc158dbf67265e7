import { and, eq, isNotNull, like, not, or } from 'drizzle-orm';
import { mfaTotp } from '../features/account/tables.js';
import { identityProviders } from '../features/federation/tables.js';
import { signingKeys } from '../features/tokens/tables.js';
import type { Db } from '../kernel/storage/database.js';
import { sealedAt, type Keyring } from '../kernel/storage/encryption.js';

/**
 * Start-up data migration, run by every start (idempotent): secrets stored in clear by earlier
 * versions, or sealed under a key that is no longer the first of the keyring, are sealed under the
 * current key; keys that no longer sign lose their private part. Rows are locked (FOR UPDATE) inside
 * one transaction, so instances starting together on PostgreSQL take turns and the later ones find
 * nothing left to do. A value sealed under a key the ring lacks stops the start (ConfigError naming
 * ENCRYPTION_KEY), before the server answers anything.
 */
export async function sealSecretsAtRest(db: Db, keyring: Keyring): Promise<{ signingKeys: number; totpSecrets: number; idpSecrets: number }> {
  // base64url ids may hold `_`, a LIKE wildcard.
  const current = `enc1:${keyring.currentKeyId.replace(/[_%\\]/g, (c) => `\\${c}`)}:%`;
  return db.transaction(async (tx) => {
    let keys = 0;
    const keyRows = await tx
      .select({ kid: signingKeys.kid, state: signingKeys.state, privateJwk: signingKeys.privateJwk, privateKey: signingKeys.privateKey })
      .from(signingKeys)
      .where(or(isNotNull(signingKeys.privateJwk), and(isNotNull(signingKeys.privateKey), not(like(signingKeys.privateKey, current)))))
      .for('update');
    for (const row of keyRows) {
      // Only the active key signs; the others verify with their public half alone.
      let privateKey: string | null = null;
      if (row.state === 'active') {
        const plain = row.privateJwk ? JSON.stringify(row.privateJwk) : keyring.open(row.privateKey!, sealedAt.signingKey(row.kid));
        privateKey = keyring.seal(plain, sealedAt.signingKey(row.kid));
      }
      await tx.update(signingKeys).set({ privateJwk: null, privateKey }).where(eq(signingKeys.kid, row.kid));
      keys++;
    }
    const totpRows = await tx
      .select({ userId: mfaTotp.userId, secret: mfaTotp.secret })
      .from(mfaTotp)
      .where(not(like(mfaTotp.secret, current)))
      .for('update');
    for (const row of totpRows) {
      const secret = keyring.seal(keyring.open(row.secret, sealedAt.totpSecret(row.userId)), sealedAt.totpSecret(row.userId));
      await tx.update(mfaTotp).set({ secret }).where(eq(mfaTotp.userId, row.userId));
    }
    // Upstream identity providers' client secrets (docs/federation.md).
    const idpRows = await tx
      .select({ id: identityProviders.id, secret: identityProviders.clientSecret })
      .from(identityProviders)
      .where(not(like(identityProviders.clientSecret, current)))
      .for('update');
    for (const row of idpRows) {
      const secret = keyring.seal(keyring.open(row.secret, sealedAt.idpClientSecret(row.id)), sealedAt.idpClientSecret(row.id));
      await tx.update(identityProviders).set({ clientSecret: secret }).where(eq(identityProviders.id, row.id));
    }
    return { signingKeys: keys, totpSecrets: totpRows.length, idpSecrets: idpRows.length };
  });
}
