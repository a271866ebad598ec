import { and, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { memberships, orgs, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recordAudit } from '../audit/record.ts';
import { newId } from '../ids.ts';
import { sendBestEffort } from '../mail/send.ts';
import { accountExistsEmail, verificationEmail } from '../mail/templates.ts';
import { orgSlug } from '../orgs/slug.ts';
import { createEmailToken } from './email-links.ts';
import { displayNameInput, emailInput, passwordInput } from './inputs.ts';
import { hashPassword } from './passwords.ts';

export const registerInput = z
  .object({
    email: emailInput,
    password: passwordInput,
    name: displayNameInput.optional(),
  })
  .strict();

/**
 * Creates the user, their personal org (as owner) and a verification link, in one transaction. An
 * address that already has an account gets the same answer and, instead, an email offering a password
 * reset: the response never tells a stranger whether an address is registered.
 */
export async function register({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof registerInput>;
}) {
  const { email, password, name } = registerInput.parse(input);
  const now = ctx.clock.now();
  const passwordHash = await hashPassword(password);
  const outcome = await ctx.db.transaction(async (tx) => {
    const userId = newId('user');
    const inserted = await tx
      .insert(users)
      .values({ id: userId, email, name: name ?? null, passwordHash })
      .onConflictDoNothing()
      .returning({ id: users.id });
    if (inserted.length === 0) {
      const [existing] = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(sql`lower(${users.email}) = ${email}`, isNull(users.deletedAt)));
      if (!existing) return null;
      await recordAudit(tx, {
        orgId: null,
        actor: { type: 'system', id: 'anonymous' },
        action: 'user.register_existing',
        targetType: 'user',
        targetId: existing.id,
        origin: ctx.origin,
      });
      return {
        kind: 'existing' as const,
        token: await createEmailToken(tx, { userId: existing.id, email, purpose: 'reset_password' }, now),
      };
    }
    const orgName = `${name ?? email.split('@')[0]}'s org`;
    const orgId = newId('org');
    await tx
      .insert(orgs)
      .values({ id: orgId, name: orgName, slug: orgSlug(orgName), personalOfUserId: userId });
    await tx.insert(memberships).values({ orgId, userId, role: 'owner' });
    await recordAudit(tx, {
      orgId,
      actor: { type: 'user', id: userId },
      action: 'user.register',
      targetType: 'user',
      targetId: userId,
      origin: ctx.origin,
    });
    return {
      kind: 'created' as const,
      token: await createEmailToken(tx, { userId, email, purpose: 'verify_email' }, now),
    };
  });
  if (!outcome) return;
  const message =
    outcome.kind === 'created'
      ? verificationEmail(ctx.config.PUBLIC_URL, email, outcome.token)
      : accountExistsEmail(ctx.config.PUBLIC_URL, email, outcome.token);
  sendBestEffort(ctx, message);
}
