import { and, eq, gt, isNull, or } from 'drizzle-orm';
import { apiKeys, orgs } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Caller } from '../actor.ts';
import { UnauthorizedError } from '../errors.ts';
import { resolveSession } from './resolve-session.ts';

/**
 * The caller of a long-lived response (an event stream runs up to 15 minutes), checked again against
 * the store: a session logged out or a member removed, a key revoked or expired, an org deleted since
 * the response began all end it. Answers the caller as it stands now (a session's role may have changed).
 */
export async function recheckCaller(ctx: ServiceContext, caller: Caller): Promise<Caller> {
  const { actor } = caller;
  if (actor.type === 'user') return resolveSession(ctx, actor, caller.orgId);
  const now = ctx.clock.now();
  const [key] = await ctx.db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .innerJoin(orgs, and(eq(orgs.id, apiKeys.orgId), isNull(orgs.deletedAt)))
    .where(
      and(
        eq(apiKeys.id, actor.keyId),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
      ),
    );
  if (!key) throw new UnauthorizedError('Invalid API key.');
  return caller;
}
