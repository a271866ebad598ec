import { index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, prefixedId } from './columns.ts';
import { emailTokenPurposeEnum } from './enums.ts';
import { users } from './users.ts';

/** One-time links sent by email (verify the address, reset the password). Only the SHA-256 is stored. */
export const emailTokens = pgTable(
  'email_tokens',
  {
    id: prefixedId('emailToken'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: emailTokenPurposeEnum('purpose').notNull(),
    /** The address the link went to: verifying it proves control of that address, not a later one. */
    email: text('email').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('email_tokens_hash_key').on(t.tokenHash),
    index('email_tokens_user_idx').on(t.userId, t.purpose),
  ],
);
