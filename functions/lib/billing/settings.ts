import { eq } from 'drizzle-orm';
import { billingAccounts, orgBalances } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { auditActorOf, recordAudit } from '../../core/audit/record.ts';
import { levelBelow } from '../../core/billing/alerts.ts';
import { centsToMicroUsd, DEFAULT_BILLING_SETTINGS, microUsdToCents } from '../../core/billing/amounts.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { authorize } from '../../core/orgs/authorize.ts';
import { maybeAutoRefill } from './auto-refill.ts';
import { savedCards } from './customer.ts';

export interface BillingSettingsInput {
  auto_refill?: { enabled: boolean; threshold_cents: number; amount_cents: number } | undefined;
  alert_thresholds_cents?: number[] | undefined;
}

const DEFAULTS = { ...DEFAULT_BILLING_SETTINGS, stripeCustomerId: null as string | null };

async function accountOf(ctx: ServiceContext, orgId: string) {
  const [row] = await ctx.db.select().from(billingAccounts).where(eq(billingAccounts.orgId, orgId));
  return row ?? DEFAULTS;
}

/** Auto-refill, warning levels and the saved cards (read live from Stripe: the portal may change them). */
export async function readBillingSettings(ctx: ServiceContext) {
  const { caller } = authorize(ctx.caller, 'billing.read');
  const account = await accountOf(ctx, caller.orgId);
  const cards = account.stripeCustomerId ? await savedCards(ctx, account.stripeCustomerId) : [];
  return {
    object: 'billing_settings' as const,
    auto_refill: {
      enabled: account.autoRefillEnabled,
      threshold_cents: microUsdToCents(account.autoRefillThresholdMicroUsd),
      amount_cents: microUsdToCents(account.autoRefillAmountMicroUsd),
    },
    alert_thresholds_cents: account.alertThresholdsMicroUsd.map(microUsdToCents),
    payment_methods: cards,
  };
}

export async function updateBillingSettings(ctx: ServiceContext, input: BillingSettingsInput) {
  const { caller } = authorize(ctx.caller, 'billing.manage');
  if (input.auto_refill?.enabled) {
    const account = await accountOf(ctx, caller.orgId);
    const cards = account.stripeCustomerId ? await savedCards(ctx, account.stripeCustomerId) : [];
    if (cards.length === 0) {
      throw new InvalidRequestError('Auto-refill needs a saved card: add funds once with a card first.', {
        param: 'auto_refill.enabled',
      });
    }
  }
  await ctx.db.transaction(async (tx) => {
    const changes = {
      ...(input.auto_refill
        ? {
            autoRefillEnabled: input.auto_refill.enabled,
            autoRefillThresholdMicroUsd: centsToMicroUsd(input.auto_refill.threshold_cents),
            autoRefillAmountMicroUsd: centsToMicroUsd(input.auto_refill.amount_cents),
          }
        : {}),
      updatedAt: new Date(),
    };
    await tx
      .insert(billingAccounts)
      .values({ orgId: caller.orgId, ...changes })
      .onConflictDoUpdate({ target: billingAccounts.orgId, set: changes });
    if (input.alert_thresholds_cents) {
      const thresholds = [...new Set(input.alert_thresholds_cents)]
        .sort((a, b) => b - a)
        .map(centsToMicroUsd);
      const [balance] = await tx.select().from(orgBalances).where(eq(orgBalances.orgId, caller.orgId));
      // Levels the balance is already under count as warned: a new level does not email at once.
      await tx
        .update(billingAccounts)
        .set({
          alertThresholdsMicroUsd: thresholds,
          alertedBelowMicroUsd: levelBelow(balance?.balanceMicroUsd ?? 0, thresholds),
        })
        .where(eq(billingAccounts.orgId, caller.orgId));
    }
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'billing.settings.update',
      targetType: 'org',
      targetId: caller.orgId,
      origin: ctx.origin,
      metadata: { ...input },
    });
  });
  // Turned on while already under the threshold: charge now rather than wait for the next usage.
  if (input.auto_refill?.enabled) await maybeAutoRefill(ctx, caller.orgId);
  return readBillingSettings(ctx);
}
