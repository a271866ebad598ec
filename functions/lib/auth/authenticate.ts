import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../context.ts';
import type { Caller } from '../../core/actor.ts';
import { looksLikeApiKey } from '../../core/api-keys/format.ts';
import { rateLimitFor } from '../../core/api-keys/limits.ts';
import { resolveApiKey } from '../../core/api-keys/resolve.ts';
import { resolveSession } from '../../core/auth/resolve-session.ts';
import { NotFoundError, UnauthorizedError } from '../../core/errors.ts';
import { isId } from '../../core/ids.ts';
import { withServices } from '../init.ts';
import { createRateLimiter, rateLimitHeaders } from '../ratelimit.ts';
import { bearerToken } from './bearer.ts';
import { accessCookie } from './cookies.ts';
import { verifyAccessToken } from './jwt.ts';

const ORG_HEADER = 'x-org-id';

/** `Authorization: Bearer …` (an API key or an access token), else the web app's session cookie. */
function credentialOf(header: string | undefined, cookie: string | null): string {
  if (header !== undefined) {
    const token = bearerToken(header);
    if (!token)
      throw new UnauthorizedError('The Authorization header must be "Bearer <API key or access token>".');
    return token;
  }
  if (cookie) return cookie;
  throw new UnauthorizedError('Missing API key or session. Send "Authorization: Bearer <key>".');
}

/**
 * Resolves who is calling and in which org, then counts the request against the caller's rate limit
 * (`x-ratelimit-*` headers on every answer, 429 past it). Sessions pick an org with `x-org-id`.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const services = c.get('services');
    // Once per request, even where two mounted paths both match: each request counts once.
    if (services.caller) return next();
    const credential = credentialOf(c.req.header('authorization'), accessCookie(c));
    const requestedOrg = c.req.header(ORG_HEADER) ?? null;
    if (requestedOrg !== null && !isId('org', requestedOrg)) {
      throw new NotFoundError('Organization not found.', { param: ORG_HEADER });
    }

    let caller: Caller;
    let ownLimit: number | null = null;
    if (looksLikeApiKey(credential)) {
      const resolved = await resolveApiKey(services, credential);
      if (requestedOrg !== null && requestedOrg !== resolved.caller.orgId) {
        throw new NotFoundError('Organization not found.', { param: ORG_HEADER });
      }
      caller = resolved.caller;
      ownLimit = resolved.rateLimitPerMinute;
    } else {
      const { config, clock } = services;
      const verified = await verifyAccessToken(
        config.AUTH_SECRET,
        config.PUBLIC_URL,
        credential,
        clock.now(),
      );
      if (!verified.ok) {
        throw new UnauthorizedError(
          verified.reason === 'expired'
            ? 'Access token expired. Refresh it or log in again.'
            : 'Invalid access token.',
        );
      }
      caller = await resolveSession(services, verified.claims, requestedOrg);
    }

    const { identifier, perMinute } = rateLimitFor(caller.actor, ownLimit);
    const limiter = createRateLimiter(services.redis, `api:${perMinute}`, perMinute, 60);
    const outcome = await limiter.consume(identifier, services.clock.now());
    c.set('services', withServices(services, { caller }));
    await next();
    for (const [name, value] of Object.entries(rateLimitHeaders(outcome, services.clock.now())))
      c.header(name, value);
  };
}
