import { and, eq, isNull } from 'drizzle-orm';
import { orgs } from '../../../db/schema/index.ts';
import type { Database, Transaction } from '../../lib/db.ts';

/** The org's Standard Webhooks secret (`whsec_` + base64 of 32 random bytes), made on first use. */
export async function webhookSecretOf(db: Database | Transaction, orgId: string): Promise<string> {
  const fresh = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
  // Set only when empty: two first uses at once agree on whichever secret landed first.
  await db
    .update(orgs)
    .set({ webhookSecret: fresh })
    .where(and(eq(orgs.id, orgId), isNull(orgs.webhookSecret)));
  const [org] = await db.select({ secret: orgs.webhookSecret }).from(orgs).where(eq(orgs.id, orgId));
  if (!org?.secret) throw new Error(`org ${orgId} has no webhook secret`);
  return org.secret;
}
