import { eq, sql } from 'drizzle-orm';
import { billingAccounts } from '../../../db/schema/index.ts';
import type { Database, Transaction } from '../../lib/db.ts';

/**
 * Turns an org's auto-refill off: when its card cannot be charged (trying a declined card again every
 * hour breaks the card networks' retry rules and mails the owners each time; they turn it back on with
 * a new card), and when the org is deleted.
 */
export async function turnOffAutoRefill(db: Database | Transaction, orgId: string) {
  await db
    .update(billingAccounts)
    .set({ autoRefillEnabled: false, updatedAt: sql`now()` })
    .where(eq(billingAccounts.orgId, orgId));
}
