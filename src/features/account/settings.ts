import { Type, type Static } from 'typebox';
import { Bool, Int } from '../../kernel/config/settings.js';

/** Account: e-mail verification and password reset links, MFA for admins. */
export const AccountSettings = Type.Object({
  EMAIL_VERIFY_TOKEN_HOURS: Int(24, 1, 720, 'e-mail verification link lifetime'),
  PASSWORD_RESET_TOKEN_MINUTES: Int(30, 1, 1440, 'password reset link lifetime'),
  REQUIRE_ADMIN_MFA: Bool(false, 'admins must have TOTP enrolled to log in'),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof AccountSettings> {}
}
