import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { sessions, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recordAudit } from '../audit/record.ts';
import { ConflictError, InvalidRequestError, UnauthorizedError } from '../errors.ts';
import { passwordChangedEmail } from '../mail/templates.ts';
import { requireUser } from '../orgs/authorize.ts';
import { voidResetLinks } from './email-links.ts';
import { passwordInput } from './inputs.ts';
import { signOutOtherSessions } from './my-sessions.ts';
import { hashPassword, PASSWORD_MAX_LENGTH, verifyPassword } from './passwords.ts';

export const changePasswordInput = z
  .object({
    current_password: z.string().min(1, 'is required').max(PASSWORD_MAX_LENGTH),
    new_password: passwordInput,
  })
  .strict()
  .refine((input) => input.new_password !== input.current_password, {
    message: 'must differ from the current password',
    path: ['new_password'],
  });

/**
 * A signed-in user changes their password, knowing the current one (a session left open on a shared
 * computer is not enough to take the account). Every other session ends, pending reset links die, and
 * the address is told, so a change the owner did not make is noticed and undone by a reset.
 */
export async function changePassword({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof changePasswordInput>;
}): Promise<{ signedOut: number }> {
  const actor = requireUser(ctx.caller);
  const parsed = changePasswordInput.parse(input);
  const [user] = await ctx.db
    .select({ email: users.email, passwordHash: users.passwordHash })
    .from(users)
    .where(and(eq(users.id, actor.userId), isNull(users.deletedAt)));
  const checkedHash = user?.passwordHash;
  if (!user || !checkedHash || !(await verifyPassword(parsed.current_password, checkedHash))) {
    throw new InvalidRequestError('current_password: this is not your current password.', {
      param: 'current_password',
    });
  }
  const passwordHash = await hashPassword(parsed.new_password);
  const now = ctx.clock.now();
  const signedOut = await ctx.db.transaction(async (tx) => {
    // Still signed in, and the password still the one checked: a reset that ended this session, or
    // another change, while the hashes were computed wins (the session row is locked until commit).
    const [live] = await tx
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.id, actor.sessionId), isNull(sessions.revokedAt)))
      .for('update');
    if (!live) throw new UnauthorizedError('Your session has ended. Log in again.');
    const [changed] = await tx
      .update(users)
      .set({ passwordHash })
      .where(and(eq(users.id, actor.userId), eq(users.passwordHash, checkedHash)))
      .returning({ id: users.id });
    if (!changed)
      throw new ConflictError('Your password was changed meanwhile. Log in again with the new one.');
    const ended = await signOutOtherSessions(tx, actor.userId, actor.sessionId, now);
    await voidResetLinks(tx, actor.userId, now);
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'user', id: actor.userId },
      action: 'user.change_password',
      targetType: 'user',
      targetId: actor.userId,
      origin: ctx.origin,
      metadata: { sessionsSignedOut: ended.length },
    });
    return ended.length;
  });
  ctx.defer(
    ctx.mailer
      .send(passwordChangedEmail(ctx.config.PUBLIC_URL, user.email))
      .catch((error: unknown) =>
        ctx.logger.error('password change notice not sent', { cause: String(error) }),
      ),
  );
  return { signedOut };
}
