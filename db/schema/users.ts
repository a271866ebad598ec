import { sql } from 'drizzle-orm';
import { pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { prefixedId, timestamps } from './columns.ts';

export const users = pgTable(
  'users',
  {
    id: prefixedId('user'),
    /** Stored lower-cased; uniqueness is enforced on the lower-cased value as well. */
    email: text('email').notNull(),
    name: text('name'),
    /** Memory-hard hash with its parameters (PHC string); null for users who only sign in by link. */
    passwordHash: text('password_hash'),
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
    ...timestamps(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('users_email_key').on(sql`lower(${t.email})`)],
);
