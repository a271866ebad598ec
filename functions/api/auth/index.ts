import { createRoute, z } from '@hono/zod-openapi';
import { changePassword, changePasswordInput } from '../../core/auth/change-password.ts';
import { tokenInput } from '../../core/auth/inputs.ts';
import { login, loginInput } from '../../core/auth/login.ts';
import { logout } from '../../core/auth/logout.ts';
import { getMe } from '../../core/auth/me.ts';
import { listMySessions, revokeMyOtherSessions, revokeMySession } from '../../core/auth/my-sessions.ts';
import { requestPasswordReset, resetPassword, resetPasswordInput } from '../../core/auth/password-reset.ts';
import { refreshSession } from '../../core/auth/refresh.ts';
import { register, registerInput } from '../../core/auth/register.ts';
import { sha256Hex } from '../../core/auth/secrets.ts';
import { resendVerification, verifyEmail, verifyEmailInput } from '../../core/auth/verify-email.ts';
import { RateLimitedError, UnauthorizedError } from '../../core/errors.ts';
import { requireUser } from '../../core/orgs/authorize.ts';
import { bearerToken } from '../../lib/auth/bearer.ts';
import { accessCookie, clearSessionCookies, refreshCookie } from '../../lib/auth/cookies.ts';
import { verifyAccessToken } from '../../lib/auth/jwt.ts';
import { authenticatedRouter } from '../../lib/openapi.ts';
import { authErrors, bearerSecurity, conflict, jsonRequest, jsonResponse, publicErrors } from '../schemas.ts';
import {
  AcceptedSchema,
  RevokedSessionSchema,
  SessionListSchema,
  SessionsRevokedSchema,
  SessionTokensSchema,
  UserSchema,
} from './schema.ts';
import { sessionResponse } from './session.ts';
import { clientIp, throttle } from './throttle.ts';

const tags = ['Authentication'];
const accepted = (message: string) => ({ status: 'accepted', message });

const RefreshRequest = z
  .object({ refresh_token: tokenInput.optional().openapi({ description: 'Defaults to the refresh cookie' }) })
  .strict()
  .openapi('RefreshRequest');

const ResetRequest = z.object({ email: registerInput.shape.email }).strict().openapi('PasswordResetRequest');

const MeSchema = z.object({ user: UserSchema, org_id: z.string(), role: z.string() }).openapi('Me');

const SessionParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'ses_2ZkQ8pV7nT4sW9xY3bC1dE' }),
});

export const auth = authenticatedRouter([
  '/me',
  '/verify-email/resend',
  '/sessions',
  '/sessions/*',
  '/password',
])
  .openapi(
    createRoute({
      method: 'post',
      path: '/register',
      tags,
      summary: 'Sign up with email and password',
      description:
        'Creates the account and a personal organization, and emails a verification link. The answer is the same whether or not the address already has an account.',
      request: jsonRequest(registerInput.openapi('RegisterRequest')),
      responses: { 202: jsonResponse('Check your inbox', AcceptedSchema), ...publicErrors },
    }),
    async (c) => {
      const ctx = c.get('services');
      const input = c.req.valid('json');
      await throttle(ctx, 'register_ip', clientIp(ctx));
      // Per address too: signing up as someone else must not flood their inbox with notices.
      await throttle(ctx, 'email_link', input.email);
      await register({ ctx, input });
      return c.json(accepted('Check your inbox for a link to verify your email address.'), 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/login',
      tags,
      summary: 'Log in',
      description:
        'Returns a short-lived access token and a one-use refresh token; also sets them as httpOnly cookies for the web app. Attempts are throttled per address and per client.',
      request: jsonRequest(loginInput.openapi('LoginRequest')),
      responses: { 200: jsonResponse('Signed in', SessionTokensSchema), ...publicErrors },
    }),
    async (c) => {
      const ctx = c.get('services');
      const input = c.req.valid('json');
      await throttle(ctx, 'login_ip', clientIp(ctx));
      await throttle(ctx, 'login_email_ip', `${input.email} ${clientIp(ctx)}`);
      await throttle(ctx, 'login_email', input.email);
      const session = await login({ ctx, input });
      return c.json(await sessionResponse(c, session), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/refresh',
      tags,
      summary: 'Trade a refresh token for new tokens',
      description: 'Refresh tokens rotate: each works once. Presenting a used one revokes the whole session.',
      request: jsonRequest(RefreshRequest),
      responses: { 200: jsonResponse('New tokens', SessionTokensSchema), ...publicErrors },
    }),
    async (c) => {
      const ctx = c.get('services');
      const inBody = c.req.valid('json').refresh_token;
      const refreshToken = inBody ?? refreshCookie(c);
      if (!refreshToken) throw new UnauthorizedError('Missing refresh token.');
      const session = await refreshSession({ ctx, refreshToken });
      return c.json(await sessionResponse(c, session, { cookieOnly: inBody === undefined }), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/logout',
      tags,
      summary: 'Log out',
      description:
        'Revokes the session of the access token (or of the refresh token) and clears the cookies.',
      request: jsonRequest(RefreshRequest),
      responses: { 204: { description: 'Logged out' }, ...publicErrors },
    }),
    async (c) => {
      const ctx = c.get('services');
      const bearer = bearerToken(c.req.header('authorization')) ?? accessCookie(c);
      const verified = bearer
        ? await verifyAccessToken(ctx.config.AUTH_SECRET, ctx.config.PUBLIC_URL, bearer, ctx.clock.now())
        : null;
      await logout({
        ctx,
        sessionId: verified?.ok ? verified.claims.sessionId : null,
        refreshToken: c.req.valid('json').refresh_token ?? refreshCookie(c),
      });
      clearSessionCookies(c);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/verify-email',
      tags,
      summary: 'Verify an email address with the emailed token and the account’s password',
      description:
        'The link proves the mailbox; the password proves the sign-up, so a stranger who registered someone else’s address cannot have its owner verify it for them. Tries are limited per link and per client.',
      request: jsonRequest(verifyEmailInput.strict().openapi('VerifyEmailRequest')),
      responses: { 200: jsonResponse('Verified', AcceptedSchema), ...publicErrors },
    }),
    async (c) => {
      const ctx = c.get('services');
      const input = c.req.valid('json');
      await throttle(ctx, 'verify_ip', clientIp(ctx));
      await throttle(ctx, 'verify_link', await sha256Hex(input.token));
      await verifyEmail({ ctx, input });
      return c.json({ status: 'verified', message: 'Your email address is verified.' }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/verify-email/resend',
      tags,
      summary: 'Email a new verification link',
      security: bearerSecurity,
      responses: { 202: jsonResponse('Sent', AcceptedSchema), ...authErrors, ...conflict },
    }),
    async (c) => {
      const ctx = c.get('services');
      const user = requireUser(ctx.caller);
      await throttle(ctx, 'email_link', user.userId);
      await resendVerification({ ctx, userId: user.userId });
      return c.json(accepted('Check your inbox for a new verification link.'), 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/password-reset',
      tags,
      summary: 'Email a password reset link',
      description: 'Answers the same whether or not the address has an account.',
      request: jsonRequest(ResetRequest),
      responses: { 202: jsonResponse('Sent if the account exists', AcceptedSchema), ...publicErrors },
    }),
    async (c) => {
      const ctx = c.get('services');
      const { email } = c.req.valid('json');
      await throttle(ctx, 'reset_request_ip', clientIp(ctx));
      // Past the address's limit the answer is the same and nothing more is sent: the links sent in
      // the last hour still work, so a stranger asking for someone's resets cannot lock them out.
      const underLimit = await throttle(ctx, 'email_link', email).then(
        () => true,
        (error: unknown) => {
          if (error instanceof RateLimitedError) return false;
          throw error;
        },
      );
      if (underLimit) requestPasswordReset({ ctx, email });
      return c.json(accepted('If an account uses this address, a reset link is on its way.'), 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/password-reset/confirm',
      tags,
      summary: 'Set a new password with the emailed token',
      description: 'Signs out every session of the account.',
      request: jsonRequest(resetPasswordInput.strict().openapi('PasswordResetConfirm')),
      responses: { 200: jsonResponse('Password changed', AcceptedSchema), ...publicErrors },
    }),
    async (c) => {
      const ctx = c.get('services');
      await throttle(ctx, 'reset_confirm_ip', clientIp(ctx));
      await resetPassword({ ctx, input: c.req.valid('json') });
      clearSessionCookies(c);
      return c.json({ status: 'changed', message: 'Your password is changed. Log in again.' }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags,
      summary: 'The signed-in user and the org they act in',
      security: bearerSecurity,
      responses: { 200: jsonResponse('The user', MeSchema), ...authErrors },
    }),
    async (c) => c.json(await getMe({ ctx: c.get('services') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/password',
      tags,
      summary: 'Change the password',
      description:
        'Needs the current password. Every other session of the user ends, pending reset links stop working, and the address is emailed a notice.',
      security: bearerSecurity,
      request: jsonRequest(changePasswordInput.openapi('ChangePassword')),
      responses: {
        200: jsonResponse(
          'Changed',
          z
            .object({ status: z.literal('changed'), sessions_signed_out: z.number().int() })
            .openapi('PasswordChanged'),
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const ctx = c.get('services');
      await throttle(ctx, 'password_change', requireUser(ctx.caller).userId);
      const { signedOut } = await changePassword({ ctx, input: c.req.valid('json') });
      return c.json({ status: 'changed' as const, sessions_signed_out: signedOut }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/sessions',
      tags,
      summary: "The signed-in user's sessions",
      description: 'Every browser or CLI signed in as this user and not signed out; `current` is this one.',
      security: bearerSecurity,
      responses: {
        200: jsonResponse('The sessions, most recently active first', SessionListSchema),
        ...authErrors,
      },
    }),
    async (c) => c.json(await listMySessions({ ctx: c.get('services') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/sessions/revoke-others',
      tags,
      summary: 'Sign out everywhere else',
      description:
        'Ends every session of this user but the one making the request; their tokens stop working at once.',
      security: bearerSecurity,
      responses: { 200: jsonResponse('How many sessions ended', SessionsRevokedSchema), ...authErrors },
    }),
    async (c) => c.json(await revokeMyOtherSessions({ ctx: c.get('services') }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/sessions/{id}',
      tags,
      summary: 'Sign out one session',
      description:
        'A lost laptop, a shared computer: its access and refresh tokens stop working at once. Signing out the current session is logging out.',
      security: bearerSecurity,
      request: { params: SessionParams },
      responses: { 200: jsonResponse('The ended session', RevokedSessionSchema), ...authErrors },
    }),
    async (c) => c.json(await revokeMySession({ ctx: c.get('services'), id: c.req.valid('param').id }), 200),
  );
