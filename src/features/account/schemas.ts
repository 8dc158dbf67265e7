import { Type } from 'typebox';
import { Email, Password } from '../users/schemas.js';

/** Mailed tokens are a prefix and 43 base64url characters; the bound leaves room without inviting huge inputs. */
export const MailedToken = Type.String({ minLength: 1, maxLength: 200 });
/** A 6-digit TOTP code or a 16-character recovery code (dashes and spaces allowed). */
export const MfaCode = Type.String({ minLength: 6, maxLength: 32 });

export const ForgotBody = Type.Object({ email: Email }, { additionalProperties: false });
export const ResetBody = Type.Object({ token: MailedToken, new_password: Password }, { additionalProperties: false });
export const VerifyBody = Type.Object({ token: MailedToken }, { additionalProperties: false });
export const CodeBody = Type.Object({ code: MfaCode }, { additionalProperties: false });
export const RemoveMfaBody = Type.Object(
  { code: Type.Optional(MfaCode), password: Type.Optional(Password) },
  { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'a current code (TOTP or recovery) or the password' },
);

export const Accepted = Type.Object({ status: Type.Literal('accepted'), detail: Type.String() }, { additionalProperties: false });
export const Verified = Type.Object({ email_verified: Type.Literal(true) }, { additionalProperties: false });
export const Enrolment = Type.Object(
  { secret: Type.String({ description: 'base32; shown once' }), otpauth_uri: Type.String({ description: 'for a QR code' }) },
  { additionalProperties: false },
);
export const RecoveryCodes = Type.Object(
  { recovery_codes: Type.Array(Type.String(), { minItems: 10, maxItems: 10, description: 'single use; shown once' }) },
  { additionalProperties: false },
);
export const MfaStatus = Type.Object({ totp: Type.Boolean(), recovery_codes_left: Type.Integer() }, { additionalProperties: false });

/** Page query: other parameters (a mail client's tracking) are ignored. */
export const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) });
/** HTML form posts are checked in the handler so every problem renders as a page, not JSON. */
export const FormBody = Type.Record(Type.String(), Type.String({ maxLength: 1024 }));
