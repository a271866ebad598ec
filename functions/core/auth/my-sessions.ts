import { and, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import { sessions } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Transaction } from '../../lib/db.ts';
import { recordAudit } from '../audit/record.ts';
import { NotFoundError } from '../errors.ts';
import { requireUser } from '../orgs/authorize.ts';

/** A user's sign-ins are few (each login is one); a page bounds the list all the same. */
const MAX_LISTED = 100;

const live = (userId: string, now: Date) =>
  and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now));

function view(row: typeof sessions.$inferSelect, currentId: string) {
  return {
    object: 'session' as const,
    id: row.id,
    current: row.id === currentId,
    ip: row.ip,
    user_agent: row.userAgent,
    created_at: row.createdAt.toISOString(),
    last_active_at: (row.lastRefreshedAt ?? row.createdAt).toISOString(),
    expires_at: row.expiresAt.toISOString(),
  };
}

/** The signed-in user's live sessions (browsers, CLIs), the one making this request marked `current`. */
export async function listMySessions({ ctx }: { ctx: ServiceContext }) {
  const actor = requireUser(ctx.caller);
  const rows = await ctx.db
    .select()
    .from(sessions)
    .where(live(actor.userId, ctx.clock.now()))
    .orderBy(sql`coalesce(${sessions.lastRefreshedAt}, ${sessions.createdAt}) desc`)
    .limit(MAX_LISTED);
  return { object: 'list' as const, data: rows.map((row) => view(row, actor.sessionId)) };
}

/**
 * Signs out one of the user's own sessions (a lost laptop, a shared computer): its access and refresh
 * tokens stop working at once. Another user's session, or one already ended, is not found.
 */
export async function revokeMySession({ ctx, id }: { ctx: ServiceContext; id: string }) {
  const actor = requireUser(ctx.caller);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(eq(sessions.id, id), live(actor.userId, now)))
      .returning();
    if (!row) throw new NotFoundError(`No session of yours named '${id}' is signed in.`, { param: 'id' });
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'user', id: actor.userId },
      action: 'session.revoke',
      targetType: 'session',
      targetId: row.id,
      origin: ctx.origin,
      metadata: { reason: 'signed_out_by_user' },
    });
    return { ...view(row, actor.sessionId), revoked: true as const };
  });
}

/** Ends every live session of the user but `keep`, in the caller's transaction. Answers their ids. */
export async function signOutOtherSessions(tx: Transaction, userId: string, keep: string, now: Date) {
  const ended = await tx
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(live(userId, now), ne(sessions.id, keep)))
    .returning({ id: sessions.id });
  return ended.map(({ id }) => id);
}

/** Signs out every session of the user but the one making this request. Answers how many ended. */
export async function revokeMyOtherSessions({ ctx }: { ctx: ServiceContext }) {
  const actor = requireUser(ctx.caller);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const ended = await signOutOtherSessions(tx, actor.userId, actor.sessionId, now);
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'user', id: actor.userId },
      action: 'session.revoke_others',
      targetType: 'user',
      targetId: actor.userId,
      origin: ctx.origin,
      metadata: { kept: actor.sessionId, revoked: ended.length },
    });
    return { object: 'sessions_revoked' as const, revoked: ended.length };
  });
}
