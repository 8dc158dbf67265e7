import { Type, type Static } from 'typebox';
import { OptStr } from '../../kernel/config/settings.js';

/** Passkeys: the WebAuthn relying party and the origins a passkey may be used from. */
export const PasskeysSettings = Type.Object({
  WEBAUTHN_RP_ID: OptStr('passkeys: the WebAuthn relying-party ID, a domain (default: the host of PUBLIC_URL); docs/passkeys.md'),
  WEBAUTHN_ORIGINS: OptStr('passkeys: comma list of origins a passkey may be used from (default: the origins of PUBLIC_URL and ISSUER)'),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof PasskeysSettings> {}
}
