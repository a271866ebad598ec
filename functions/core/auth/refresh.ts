import { and, eq, isNull } from 'drizzle-orm';
import { refreshTokens, sessions, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recordAudit } from '../audit/record.ts';
import { UnauthorizedError } from '../errors.ts';
import { sha256Hex } from './secrets.ts';
import { type IssuedSession, issueRefreshToken } from './sessions.ts';

const EXPIRED = 'Your session has ended. Log in again.';
/**
 * Two tabs of one browser may refresh with the same token within moments of each other; inside this
 * window the second gets its own new token instead of being taken for a thief.
 */
const CONCURRENT_REFRESH_GRACE_MS = 10_000;

/**
 * Trades a refresh token for a new one (rotation). A token used longer ago than the grace window means
 * two parties hold it — one of them a thief — so the whole session is revoked and both must log in
 * again.
 */
export async function refreshSession({
  ctx,
  refreshToken,
}: {
  ctx: ServiceContext;
  refreshToken: string;
}): Promise<IssuedSession> {
  const now = ctx.clock.now();
  const tokenHash = await sha256Hex(refreshToken);
  const result = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ token: refreshTokens, session: sessions })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .innerJoin(users, and(eq(users.id, sessions.userId), isNull(users.deletedAt)))
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .for('update', { of: refreshTokens });
    if (!row || row.session.revokedAt || row.session.expiresAt <= now || row.token.expiresAt <= now)
      return null;
    const concurrent =
      row.token.usedAt && now.getTime() - row.token.usedAt.getTime() <= CONCURRENT_REFRESH_GRACE_MS;
    if (row.token.usedAt && !concurrent) {
      await tx.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, row.session.id));
      await recordAudit(tx, {
        orgId: null,
        actor: { type: 'system', id: 'system' },
        action: 'session.revoke',
        targetType: 'session',
        targetId: row.session.id,
        origin: ctx.origin,
        metadata: { reason: 'refresh_token_reuse', userId: row.session.userId },
      });
      return 'reused' as const;
    }
    // The row is locked (FOR UPDATE): concurrent refreshes of one token are decided one at a time.
    if (!concurrent)
      await tx.update(refreshTokens).set({ usedAt: now }).where(eq(refreshTokens.id, row.token.id));
    await tx.update(sessions).set({ lastRefreshedAt: now }).where(eq(sessions.id, row.session.id));
    const next = await issueRefreshToken(tx, row.session.id, row.session.expiresAt);
    return {
      userId: row.session.userId,
      sessionId: row.session.id,
      refreshToken: next,
      refreshExpiresAt: row.session.expiresAt,
    };
  });
  if (result === null) throw new UnauthorizedError(EXPIRED);
  if (result === 'reused') {
    ctx.logger.warn('refresh token reused; session revoked');
    throw new UnauthorizedError(EXPIRED);
  }
  return result;
}
