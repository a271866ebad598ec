import { and, eq, isNull } from 'drizzle-orm';
import { refreshTokens, sessions } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recordAudit } from '../audit/record.ts';
import { sha256Hex } from './secrets.ts';

/**
 * Ends the session named by the access token or, failing that, the one the refresh token belongs to.
 * Logging out twice, or with an unknown token, is not an error: the outcome is the same.
 */
export async function logout({
  ctx,
  sessionId,
  refreshToken,
}: {
  ctx: ServiceContext;
  sessionId: string | null;
  refreshToken: string | null;
}): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    let target = sessionId;
    if (!target && refreshToken) {
      const [row] = await tx
        .select({ sessionId: refreshTokens.sessionId })
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, await sha256Hex(refreshToken)));
      target = row?.sessionId ?? null;
    }
    if (!target) return;
    const [revoked] = await tx
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(eq(sessions.id, target), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id, userId: sessions.userId });
    if (!revoked) return;
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'user', id: revoked.userId },
      action: 'session.revoke',
      targetType: 'session',
      targetId: revoked.id,
      origin: ctx.origin,
      metadata: { reason: 'logout' },
    });
  });
}
