import { index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { prefixedId, timestamps } from './columns.ts';
import { roleEnum } from './enums.ts';
import { orgs } from './orgs.ts';
import { users } from './users.ts';

export const memberships = pgTable(
  'memberships',
  {
    id: prefixedId('membership'),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: roleEnum('role').notNull(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('memberships_org_user_key').on(t.orgId, t.userId),
    index('memberships_user_idx').on(t.userId),
  ],
);
