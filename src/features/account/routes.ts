import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ACCOUNT } from '../access/route-access.js';
import { requestContext } from '../audit/request-context.js';
import { Problem } from '../../kernel/problem.js';
import { pruneAccountTokens } from './account-tokens.js';
import { registerMfaGrant } from './mfa-grant.js';
import { Accepted, CodeBody, Enrolment, ForgotBody, MfaStatus, RecoveryCodes, RemoveMfaBody, ResetBody, Verified, VerifyBody } from './schemas.js';
import fp from 'fastify-plugin';
import { needsWarden, ROUTE_PIPELINE } from '../../platform/pipeline.js';

export const FORGOT_ANSWER = {
  status: 'accepted' as const,
  detail: 'If an account uses this address, a link to reset its password has been sent to it.',
};

/** JSON endpoints of the account lifecycle: password reset, e-mail verification, TOTP. */
async function accountApi(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = app.warden;
  registerMfaGrant(app.oauth, w.config);
  // Expired and used mail tokens are useless; deleted hourly so the table stays small.
  app.jobs.register({ name: 'account-tokens.prune', everyMs: 3600_000, singleRunner: true, run: ({ db, now }) => pruneAccountTokens(db, now) });

  app.post(
    '/password/forgot',
    {
      config: { access: { kind: 'public', reason: 'asks for a mailed reset link' }, rateLimitGroup: 'account' },
      schema: {
        tags: ['account'],
        summary: 'Mail a password reset link (always 202, whether or not the address is known)',
        body: ForgotBody,
        response: { 202: Accepted, 422: Problem },
      },
    },
    async (request, reply) => {
      // Nothing is looked up before answering: same body, same timing for every address.
      w.account.reset.request(request.body.email, requestContext(request));
      reply.code(202).header('cache-control', 'no-store');
      return FORGOT_ANSWER;
    },
  );

  app.post(
    '/password/reset',
    {
      config: { access: { kind: 'public', reason: 'the mailed single-use token is the credential' }, rateLimitGroup: 'account' },
      schema: {
        tags: ['account'],
        summary: 'Set a new password with the mailed single-use token; ends every session',
        body: ResetBody,
        response: { 204: Type.Null(), 400: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      await w.account.reset.reset(request.body.token, request.body.new_password, requestContext(request));
      return reply.code(204).header('cache-control', 'no-store').send(null);
    },
  );

  app.post(
    '/email/verify',
    {
      config: { access: { kind: 'public', reason: 'the mailed single-use token is the credential' }, rateLimitGroup: 'account' },
      schema: { tags: ['account'], summary: 'Verify the e-mail address (or a requested new one) with the mailed token', body: VerifyBody, response: { 200: Verified, 400: Problem, 409: Problem } },
    },
    async (request, reply) => {
      await w.account.verification.verify(request.body.token, requestContext(request));
      reply.header('cache-control', 'no-store');
      return { email_verified: true as const };
    },
  );

  app.post(
    '/email/verify/resend',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['account'],
        summary: 'Mail another verification link (at most one a minute, five an hour)',
        response: { 202: Accepted, 409: Problem, 429: Problem },
      },
    },
    async (request, reply) => {
      await w.account.verification.resend(request.auth!.user!.id, requestContext(request));
      reply.code(202).header('cache-control', 'no-store');
      return { status: 'accepted' as const, detail: 'a verification link has been sent' };
    },
  );

  app.get(
    '/users/me/mfa',
    { config: { access: ACCOUNT }, schema: { tags: ['mfa'], response: { 200: MfaStatus } } },
    async (request, reply) => {
      const id = request.auth!.user!.id;
      reply.header('cache-control', 'no-store');
      return { totp: await w.mfa.isEnrolled(id), recovery_codes_left: await w.mfa.recoveryCodesLeft(id) };
    },
  );

  app.post(
    '/users/me/mfa/totp',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['mfa'],
        summary: 'Start TOTP enrolment: a new secret, shown once (replaces an unconfirmed one)',
        response: { 200: Enrolment, 409: Problem },
      },
    },
    async (request, reply) => {
      const e = await w.mfa.beginEnrolment(request.auth!.user!);
      reply.header('cache-control', 'no-store');
      return { secret: e.secret, otpauth_uri: e.otpauthUri };
    },
  );

  app.post(
    '/users/me/mfa/totp/confirm',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['mfa'],
        summary: 'Confirm TOTP with a code; answers 10 single-use recovery codes, shown once',
        body: CodeBody,
        response: { 200: RecoveryCodes, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const codes = await w.mfa.confirmEnrolment(request.auth!.user!, request.body.code, requestContext(request));
      reply.header('cache-control', 'no-store');
      return { recovery_codes: codes };
    },
  );

  app.delete(
    '/users/me/mfa/totp',
    {
      config: { access: ACCOUNT, rateLimitGroup: 'account' },
      schema: {
        tags: ['mfa'],
        summary: 'Turn TOTP off with {code} (TOTP or recovery code) or {password}',
        body: RemoveMfaBody,
        response: { 204: Type.Null(), 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      await w.mfa.remove(request.auth!.user!, request.body, requestContext(request));
      return reply.code(204).send(null);
    },
  );
}

export const accountRoutes = fp(accountApi, { name: 'warden-account', fastify: '5.x', encapsulate: true, decorators: needsWarden(), dependencies: [...ROUTE_PIPELINE, 'warden-audit', 'warden-oauth-registry'] });
