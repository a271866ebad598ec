import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, prefixedId } from './columns.ts';
import { ledgerKindEnum } from './enums.ts';
import { orgs } from './orgs.ts';

/**
 * Double-entry ledger. Rows are only ever inserted; a transaction's entries (same `transaction_id`)
 * sum to zero; an org's balance is the sum of the entries on its `org:<id>` account. Each entry carries
 * an idempotency key so a retried webhook or usage report can never move money twice.
 */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: prefixedId('ledgerEntry'),
    transactionId: text('transaction_id').notNull(),
    /** Org whose balance this entry touches; null for platform accounts (revenue, Stripe clearing). */
    orgId: text('org_id').references(() => orgs.id),
    account: text('account').notNull(),
    kind: ledgerKindEnum('kind').notNull(),
    /** Signed micro-dollars: credits to a balance are positive, debits negative. */
    amountMicroUsd: bigint('amount_micro_usd', { mode: 'number' }).notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    description: text('description').notNull(),
    /** What caused it: a payment, replica or job id. */
    reference: text('reference'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('ledger_entries_idempotency_key').on(t.idempotencyKey),
    index('ledger_entries_org_idx').on(t.orgId, t.createdAt),
    index('ledger_entries_transaction_idx').on(t.transactionId),
    index('ledger_entries_reference_idx').on(t.reference),
    check('ledger_entries_nonzero', sql`${t.amountMicroUsd} <> 0`),
  ],
);
