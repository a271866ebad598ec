import { eq } from 'drizzle-orm';
import { billingAccounts, orgBalances } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { alertToSend } from '../../core/billing/alerts.ts';
import { lowBalanceEmail } from '../../core/mail/templates.ts';
import { maybeAutoRefill } from './auto-refill.ts';
import { notifyBilling } from './notify.ts';

/**
 * Emails a warning when the balance has fallen below a level not yet warned about. The level is
 * recorded under the billing row lock before the mail goes out, so concurrent meter runs send one.
 */
export async function warnIfLow(ctx: ServiceContext, orgId: string): Promise<number | null> {
  const warned = await ctx.db.transaction(async (tx) => {
    await tx.insert(billingAccounts).values({ orgId }).onConflictDoNothing();
    const [account] = await tx
      .select()
      .from(billingAccounts)
      .where(eq(billingAccounts.orgId, orgId))
      .for('update');
    const [balance] = await tx.select().from(orgBalances).where(eq(orgBalances.orgId, orgId));
    if (!account) return null;
    const microUsd = balance?.balanceMicroUsd ?? 0;
    const level = alertToSend(microUsd, account.alertThresholdsMicroUsd, account.alertedBelowMicroUsd);
    if (level === null) return null;
    await tx
      .update(billingAccounts)
      .set({ alertedBelowMicroUsd: level })
      .where(eq(billingAccounts.orgId, orgId));
    return { level, microUsd };
  });
  if (!warned) return null;
  await notifyBilling(ctx, orgId, (to, org) =>
    lowBalanceEmail(ctx.config.PUBLIC_URL, to, org, warned.microUsd, warned.level),
  );
  return warned.level;
}

/**
 * What follows usage charges: a low-balance warning and, when it is on, an automatic top-up. One
 * org's Stripe trouble is logged and left to the next minute; it never stops metering the others.
 */
export async function afterUsage(ctx: ServiceContext, orgIds: Iterable<string>): Promise<void> {
  for (const orgId of new Set(orgIds)) {
    try {
      await warnIfLow(ctx, orgId);
      await maybeAutoRefill(ctx, orgId);
    } catch (error) {
      ctx.logger.error('after-usage billing step failed', {
        orgId,
        cause: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
