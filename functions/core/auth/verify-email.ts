import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recordAudit } from '../audit/record.ts';
import { ConflictError, InvalidRequestError } from '../errors.ts';
import { sendBestEffort } from '../mail/send.ts';
import { verificationEmail } from '../mail/templates.ts';
import { assertEmailTokenUsable, consumeEmailToken, createEmailToken } from './email-links.ts';
import { tokenInput } from './inputs.ts';
import { loginInput } from './login.ts';
import { verifyPassword } from './passwords.ts';

export const verifyEmailInput = z
  .object({
    token: tokenInput,
    password: loginInput.shape.password,
  })
  .strict();

/**
 * Marks the address verified, provided it is still the address the link was sent to, and the one
 * verifying knows the account's password. The link alone proves the mailbox, not the sign-up: anyone
 * can register someone else's address and have the link mailed to them, and the owner clicking it
 * would hand a verified account to whoever holds its password (pre-hijacking). A wrong password
 * leaves the link working; the route limits the tries.
 */
export async function verifyEmail({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof verifyEmailInput>;
}): Promise<void> {
  const { token, password } = verifyEmailInput.parse(input);
  const now = ctx.clock.now();
  const { userId } = await assertEmailTokenUsable(ctx.db, token, 'verify_email', now);
  const [owner] = await ctx.db
    .select({ passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.id, userId));
  if (!owner?.passwordHash || !(await verifyPassword(password, owner.passwordHash))) {
    throw new InvalidRequestError(
      'That is not the password of the account this link verifies. Enter the password chosen at sign-up; if you did not sign up, ignore the email.',
      { param: 'password' },
    );
  }
  await ctx.db.transaction(async (tx) => {
    const link = await consumeEmailToken(tx, token, 'verify_email', now);
    const [user] = await tx
      .update(users)
      .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now})` })
      .where(
        and(eq(users.id, link.userId), sql`lower(${users.email}) = ${link.email}`, isNull(users.deletedAt)),
      )
      .returning({ id: users.id });
    if (!user) throw new InvalidRequestError('This link is invalid or has expired.', { param: 'token' });
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'user', id: user.id },
      action: 'user.verify_email',
      targetType: 'user',
      targetId: user.id,
      origin: ctx.origin,
    });
  });
}

/** Sends a fresh verification link to the signed-in user. */
export async function resendVerification({
  ctx,
  userId,
}: {
  ctx: ServiceContext;
  userId: string;
}): Promise<void> {
  const now = ctx.clock.now();
  const token = await ctx.db.transaction(async (tx) => {
    const [user] = await tx
      .select({ email: users.email, verifiedAt: users.emailVerifiedAt })
      .from(users)
      .where(eq(users.id, userId));
    if (!user) throw new InvalidRequestError('Unknown user.');
    if (user.verifiedAt) throw new ConflictError('This email address is already verified.');
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'user', id: userId },
      action: 'user.resend_verification',
      targetType: 'user',
      targetId: userId,
      origin: ctx.origin,
    });
    return {
      email: user.email,
      secret: await createEmailToken(tx, { userId, email: user.email, purpose: 'verify_email' }, now),
    };
  });
  sendBestEffort(ctx, verificationEmail(ctx.config.PUBLIC_URL, token.email, token.secret));
}
