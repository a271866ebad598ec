import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { sessions, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recordAudit } from '../audit/record.ts';
import { InvalidRequestError } from '../errors.ts';
import { passwordResetEmail } from '../mail/templates.ts';
import {
  assertEmailTokenUsable,
  consumeEmailToken,
  createEmailToken,
  voidResetLinks,
} from './email-links.ts';
import { passwordInput, tokenInput } from './inputs.ts';
import { hashPassword } from './passwords.ts';

/**
 * Emails a reset link if the address has an account. The answer is the same either way, and so is its
 * timing: the lookup, the token and the email all happen after it (an existing account used to cost
 * the answer two more writes, which told whether the address had one).
 */
export function requestPasswordReset({ ctx, email }: { ctx: ServiceContext; email: string }): void {
  ctx.defer(
    sendResetLink(ctx, email).catch((error: unknown) =>
      ctx.logger.error('password reset link not sent', {
        cause: error instanceof Error ? error.message : String(error),
      }),
    ),
  );
}

async function sendResetLink(ctx: ServiceContext, email: string) {
  const now = ctx.clock.now();
  const token = await ctx.db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(sql`lower(${users.email}) = ${email}`, isNull(users.deletedAt)));
    if (!user) return null;
    // Anyone may ask for a reset link, so the request is recorded without claiming who asked.
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'system', id: 'anonymous' },
      action: 'user.request_password_reset',
      targetType: 'user',
      targetId: user.id,
      origin: ctx.origin,
    });
    return createEmailToken(tx, { userId: user.id, email, purpose: 'reset_password' }, now);
  });
  if (token) await ctx.mailer.send(passwordResetEmail(ctx.config.PUBLIC_URL, email, token));
}

export const resetPasswordInput = z.object({ token: tokenInput, password: passwordInput }).strict();

/**
 * Sets the new password and signs out every session: whoever knew the old password is locked out of
 * the dashboard (API keys belong to orgs and are revoked there).
 * Following the link also proves control of the mailbox, so the address counts as verified.
 */
export async function resetPassword({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof resetPasswordInput>;
}) {
  const { token, password } = resetPasswordInput.parse(input);
  const now = ctx.clock.now();
  await assertEmailTokenUsable(ctx.db, token, 'reset_password', now);
  const passwordHash = await hashPassword(password);
  await ctx.db.transaction(async (tx) => {
    const link = await consumeEmailToken(tx, token, 'reset_password', now);
    const [user] = await tx
      .update(users)
      .set({ passwordHash, emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now})` })
      .where(
        and(eq(users.id, link.userId), sql`lower(${users.email}) = ${link.email}`, isNull(users.deletedAt)),
      )
      .returning({ id: users.id });
    if (!user) throw new InvalidRequestError('This link is invalid or has expired.', { param: 'token' });
    await tx
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt)));
    // Other reset links in the mailbox die too: they could otherwise undo this reset.
    await voidResetLinks(tx, user.id, now);
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'user', id: user.id },
      action: 'user.reset_password',
      targetType: 'user',
      targetId: user.id,
      origin: ctx.origin,
    });
  });
}
