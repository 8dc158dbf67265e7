import { Type, type Static } from 'typebox';
import { Int } from '../../kernel/config/settings.js';

/** The admin console: its session lifetime. */
export const ConsoleSettings = Type.Object({
  CONSOLE_SESSION_MINUTES: Int(480, 5, 10080, 'admin console session lifetime'),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof ConsoleSettings> {}
}
