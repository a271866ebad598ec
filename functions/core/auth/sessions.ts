import { refreshTokens, sessions } from '../../../db/schema/index.ts';
import type { Transaction } from '../../lib/db.ts';
import type { RequestOrigin } from '../actor.ts';
import { newId } from '../ids.ts';
import { randomToken, sha256Hex } from './secrets.ts';

/** A sign-in lasts at most 30 days, however often it refreshes. */
export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

export interface IssuedSession {
  userId: string;
  sessionId: string;
  /** Shown to the client once; only its hash is stored. */
  refreshToken: string;
  refreshExpiresAt: Date;
}

export async function issueRefreshToken(
  tx: Transaction,
  sessionId: string,
  expiresAt: Date,
): Promise<string> {
  const token = randomToken(32);
  await tx.insert(refreshTokens).values({ sessionId, tokenHash: await sha256Hex(token), expiresAt });
  return token;
}

export async function startSession(
  tx: Transaction,
  userId: string,
  origin: RequestOrigin,
  now: Date,
): Promise<IssuedSession> {
  const sessionId = newId('session');
  const expiresAt = new Date(now.getTime() + SESSION_TTL_SECONDS * 1000);
  await tx.insert(sessions).values({
    id: sessionId,
    userId,
    ip: origin.ip,
    userAgent: origin.userAgent?.slice(0, 512) ?? null,
    expiresAt,
  });
  const refreshToken = await issueRefreshToken(tx, sessionId, expiresAt);
  return { userId, sessionId, refreshToken, refreshExpiresAt: expiresAt };
}
