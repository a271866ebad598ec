import type { Context } from 'hono';
import type { AppEnv } from '../../context.ts';
import type { IssuedSession } from '../../core/auth/sessions.ts';
import { setSessionCookies } from '../../lib/auth/cookies.ts';
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from '../../lib/auth/jwt.ts';

/**
 * The body and cookies a successful login or refresh answers with. `cookieOnly`: the refresh token
 * came in the httpOnly cookie, so its successor goes back there alone; in the body a script injected
 * into the page could read it and keep a session of its own going for as long as the refresh lives.
 */
export async function sessionResponse(
  c: Context<AppEnv>,
  session: IssuedSession,
  { cookieOnly = false }: { cookieOnly?: boolean } = {},
) {
  const { config, clock } = c.get('services');
  const accessToken = await signAccessToken(config.AUTH_SECRET, config.PUBLIC_URL, session, clock.now());
  setSessionCookies(c, accessToken, session.refreshToken);
  c.header('cache-control', 'no-store');
  return {
    access_token: accessToken,
    token_type: 'Bearer' as const,
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    refresh_token: cookieOnly ? null : session.refreshToken,
    refresh_expires_at: session.refreshExpiresAt.toISOString(),
    user_id: session.userId,
    session_id: session.sessionId,
  };
}
