import { Type, type Static } from 'typebox';

/** The seeds' demo routes and scopes. */
export const ExamplesSettings = Type.Object({
  EXAMPLES: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
    default: 'enabled',
    description: "the seeds' demo routes /secure-data, /admin-only and /items with their scopes items:read and items:write",
  }),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof ExamplesSettings> {}
}
