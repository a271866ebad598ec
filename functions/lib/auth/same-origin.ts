import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../context.ts';
import { ForbiddenError } from '../../core/errors.ts';
import { ACCESS_COOKIE, REFRESH_COOKIE } from './cookies.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The browser attaches the session cookies to any request for this site, also one a foreign page makes
 * it send, and a POST without a body or a multipart upload needs no CORS preflight. So a state-changing
 * request that carries the cookies must come from this site's own pages: `Sec-Fetch-Site` says where a
 * request comes from in current browsers, `Origin` in older ones. Bearer requests (API keys, SDKs,
 * scripts) carry no ambient credential and are not concerned, nor are clients that send neither header.
 */
export function sameOriginForCookies(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const cookies = c.req.header('cookie') ?? '';
    const carriesSession = cookies.includes(`${ACCESS_COOKIE}=`) || cookies.includes(`${REFRESH_COOKIE}=`);
    if (SAFE_METHODS.has(c.req.method) || !carriesSession || c.req.header('authorization') !== undefined)
      return next();
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    const sameOrigin =
      site !== undefined
        ? site === 'same-origin' || site === 'none'
        : origin === undefined ||
          origin === new URL(c.get('services').config.PUBLIC_URL).origin ||
          origin === new URL(c.req.url).origin;
    if (!sameOrigin)
      throw new ForbiddenError(
        'A request signed in with the session cookie must come from the dashboard itself. Scripts use an API key.',
      );
    return next();
  };
}
