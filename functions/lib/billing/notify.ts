import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import { memberships, orgs, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { EmailMessage } from '../../core/mail/mailer.ts';
import { sendBestEffort } from '../../core/mail/send.ts';
import { roleHolders } from '../../core/orgs/permissions.ts';

/** Emails every verified member who manages the org's money (owners and billing members). */
export async function notifyBilling(
  ctx: ServiceContext,
  orgId: string,
  compose: (to: string, orgName: string) => EmailMessage,
): Promise<void> {
  const contacts = await ctx.db
    .select({ email: users.email, orgName: orgs.name })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .innerJoin(orgs, eq(orgs.id, memberships.orgId))
    .where(
      and(
        eq(memberships.orgId, orgId),
        inArray(memberships.role, roleHolders('billing.manage')),
        isNotNull(users.emailVerifiedAt),
      ),
    );
  for (const contact of contacts) sendBestEffort(ctx, compose(contact.email, contact.orgName));
}
