import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, prefixedId } from './columns.ts';
import { endpoints } from './endpoints.ts';
import { apiKeyKindEnum, roleEnum } from './enums.ts';
import { orgs } from './orgs.ts';
import { users } from './users.ts';

/**
 * Only the SHA-256 of a key is stored: a database leak yields no usable key. The prefix and last four
 * characters are kept so people can tell their keys apart.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: prefixedId('apiKey'),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id),
    kind: apiKeyKindEnum('kind').notNull(),
    /** Set for deployment keys: the one endpoint they may call. */
    endpointId: text('endpoint_id').references(() => endpoints.id),
    /** Set for account keys: what the key may do in its org, never more than its creator could. */
    role: roleEnum('role'),
    /** Requests per minute; null means the default for the key's kind. */
    rateLimitPerMinute: integer('rate_limit_per_minute'),
    /** Spend caps (UTC day, calendar month) on the GPU time of this key's requests; null: none. */
    spendCapDailyMicroUsd: bigint('spend_cap_daily_micro_usd', { mode: 'number' }),
    spendCapMonthlyMicroUsd: bigint('spend_cap_monthly_micro_usd', { mode: 'number' }),
    name: text('name').notNull(),
    hash: text('hash').notNull(),
    prefix: text('prefix').notNull(),
    lastFour: text('last_four').notNull(),
    createdByUserId: text('created_by_user_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('api_keys_hash_key').on(t.hash),
    index('api_keys_org_idx').on(t.orgId, t.createdAt),
    index('api_keys_endpoint_idx').on(t.endpointId),
    check(
      'api_keys_kind_scope',
      sql`(${t.kind} = 'account' and ${t.role} is not null and ${t.endpointId} is null) or (${t.kind} = 'deployment' and ${t.role} is null and ${t.endpointId} is not null)`,
    ),
    check(
      'api_keys_rate_limit_positive',
      sql`${t.rateLimitPerMinute} is null or ${t.rateLimitPerMinute} > 0`,
    ),
  ],
);
