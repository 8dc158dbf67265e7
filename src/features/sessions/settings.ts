import { Type, type Static } from 'typebox';
import { Bool } from '../../kernel/config/settings.js';

/** Sessions: the new-device mail. */
export const SessionsSettings = Type.Object({
  NEW_DEVICE_MAIL: Bool(true, 'mail the user when they sign in from a device not seen before, with a link that ends that session (docs/sessions.md)'),
});

declare module '../../kernel/config/settings.js' {
  interface Settings extends Static<typeof SessionsSettings> {}
}
