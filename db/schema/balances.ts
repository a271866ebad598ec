import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

/**
 * Each org's balance, cached from the ledger: written in the same transaction as the entries that
 * move it, under a row lock, so concurrent debits serialise on it. `derivedBalance` (the ledger)
 * sums the entries it must equal.
 */
export const orgBalances = pgTable('org_balances', {
  orgId: text('org_id')
    .primaryKey()
    .references(() => orgs.id),
  balanceMicroUsd: bigint('balance_micro_usd', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
