import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../../context.ts';
import { SESSION_TTL_SECONDS } from '../../core/auth/sessions.ts';
import { ACCESS_TOKEN_TTL_SECONDS } from './jwt.ts';

/**
 * The web app's credentials live in httpOnly cookies (script cannot read them). The refresh cookie is
 * sent only to the auth routes and only same-site, so no other route ever sees it.
 */
export const ACCESS_COOKIE = 'aic_session';
export const REFRESH_COOKIE = 'aic_refresh';
const REFRESH_PATH = '/api/auth';

/** Secure everywhere but a plain-http development server (browsers drop Secure cookies over http). */
const secure = (c: Context<AppEnv>) =>
  c.get('services').config.ENVIRONMENT !== 'development' || new URL(c.req.url).protocol === 'https:';

export function setSessionCookies(c: Context<AppEnv>, accessToken: string, refreshToken: string): void {
  setCookie(c, ACCESS_COOKIE, accessToken, {
    httpOnly: true,
    secure: secure(c),
    sameSite: 'Lax',
    path: '/',
    maxAge: ACCESS_TOKEN_TTL_SECONDS,
  });
  setCookie(c, REFRESH_COOKIE, refreshToken, {
    httpOnly: true,
    secure: secure(c),
    sameSite: 'Strict',
    path: REFRESH_PATH,
    maxAge: SESSION_TTL_SECONDS,
  });
}

export function clearSessionCookies(c: Context<AppEnv>): void {
  deleteCookie(c, ACCESS_COOKIE, { path: '/', secure: secure(c) });
  deleteCookie(c, REFRESH_COOKIE, { path: REFRESH_PATH, secure: secure(c) });
}

export const accessCookie = (c: Context<AppEnv>) => getCookie(c, ACCESS_COOKIE) ?? null;
export const refreshCookie = (c: Context<AppEnv>) => getCookie(c, REFRESH_COOKIE) ?? null;
