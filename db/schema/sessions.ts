import { index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, prefixedId } from './columns.ts';
import { users } from './users.ts';

/**
 * One sign-in of one user (a browser, a CLI). Access JWTs name it (`sid`), so revoking it — log out,
 * password reset, refresh-token reuse — ends every token issued under it.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: prefixedId('session'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: createdAt(),
    lastRefreshedAt: timestamp('last_refreshed_at', { withTimezone: true }),
    /** Absolute end: refreshing never extends a session past it. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/**
 * Rotating refresh tokens: each is good for one refresh. Presenting one that was already used means it
 * was copied, so the whole session is revoked (reuse detection). Only the SHA-256 is stored.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: prefixedId('refreshToken'),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_key').on(t.tokenHash),
    index('refresh_tokens_session_idx').on(t.sessionId),
  ],
);
