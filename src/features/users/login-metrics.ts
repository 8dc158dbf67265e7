import type { Metrics } from '../../platform/metrics.js';
import type { LoginFailure, LoginGuard } from './service.js';

/** Counts password checks in `warden_logins_total`; registered with UsersService.addLoginGuard. */
export function loginMetrics(metrics: Metrics): LoginGuard {
  return {
    before: async () => {},
    failed: async (_login, _user, reason: LoginFailure) => {
      metrics.logins.inc({ result: 'failed', reason });
    },
    succeeded: async () => {
      metrics.logins.inc({ result: 'ok', reason: '' });
    },
  };
}
