import { and, eq, isNull, sql } from 'drizzle-orm';
import { orgs } from '../../../db/schema/index.ts';
import type { Database, Transaction } from '../../lib/db.ts';

/** How long a rotated-out secret still signs deliveries, so receivers can switch without a gap. */
export const ROTATION_GRACE_HOURS = 24;

const freshSecret = () => `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;

/**
 * The org's Standard Webhooks secret (`whsec_` + base64 of 32 random bytes), made on first use, and
 * the one it replaced while that still signs (its grace period after a rotation), else null.
 */
export async function webhookSecretsOf(
  db: Database | Transaction,
  orgId: string,
  now: Date,
): Promise<{ secret: string; previous: { secret: string; expiresAt: Date } | null }> {
  // Set only when empty: two first uses at once agree on whichever secret landed first.
  await db
    .update(orgs)
    .set({ webhookSecret: freshSecret() })
    .where(and(eq(orgs.id, orgId), isNull(orgs.webhookSecret)));
  const [org] = await db
    .select({
      secret: orgs.webhookSecret,
      previous: orgs.previousWebhookSecret,
      until: orgs.previousWebhookSecretExpiresAt,
    })
    .from(orgs)
    .where(eq(orgs.id, orgId));
  if (!org?.secret) throw new Error(`org ${orgId} has no webhook secret`);
  const { secret, previous, until } = org;
  return {
    secret,
    previous: previous && until && until > now ? { secret: previous, expiresAt: until } : null,
  };
}

/**
 * The secrets a delivery is signed with: the current one, and the one it replaced while that is still
 * in its grace period (Standard Webhooks carries several signatures; a receiver accepts any it knows).
 */
export async function signingSecretsOf(
  db: Database | Transaction,
  orgId: string,
  now: Date,
): Promise<string[]> {
  const { secret, previous } = await webhookSecretsOf(db, orgId, now);
  return previous ? [secret, previous.secret] : [secret];
}

/**
 * Replaces the org's secret (a leak, a departed admin). The old one keeps signing, beside the new, for
 * ROTATION_GRACE_HOURS, so receivers switch without missing a delivery. Answers the new secret and
 * when the old one stops.
 */
export async function rotateWebhookSecret(tx: Transaction, orgId: string, now: Date) {
  await webhookSecretsOf(tx, orgId, now);
  const until = new Date(now.getTime() + ROTATION_GRACE_HOURS * 3_600_000);
  const [rotated] = await tx
    .update(orgs)
    .set({
      previousWebhookSecret: sql`${orgs.webhookSecret}`,
      previousWebhookSecretExpiresAt: until,
      webhookSecret: freshSecret(),
    })
    .where(eq(orgs.id, orgId))
    .returning({ secret: orgs.webhookSecret });
  if (!rotated?.secret) throw new Error(`org ${orgId} has no webhook secret`);
  return { secret: rotated.secret, previousExpiresAt: until };
}
