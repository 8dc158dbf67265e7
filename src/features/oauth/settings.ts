import { Type, type Static } from 'typebox';

/** OAuth: which grants the token endpoint offers. */
export const OAuthSettings = Type.Object({
  PASSWORD_GRANT: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { default: 'enabled', description: 'first-party password grant' }),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof OAuthSettings> {}
}
