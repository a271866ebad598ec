import { and, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recordAudit } from '../audit/record.ts';
import { UnauthorizedError } from '../errors.ts';
import { emailInput } from './inputs.ts';
import { spendPasswordCheckTime, verifyPassword } from './passwords.ts';
import { type IssuedSession, startSession } from './sessions.ts';

export const loginInput = z
  .object({
    email: emailInput,
    // Not the sign-up policy: an old password that predates it must still be accepted.
    password: z.string().min(1, 'is required').max(1024, 'is too long'),
  })
  .strict();

/** One message for unknown address and wrong password, so the answer does not reveal accounts. */
const BAD_CREDENTIALS = 'Incorrect email or password.';

export async function login({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof loginInput>;
}): Promise<IssuedSession & { emailVerified: boolean }> {
  const { email, password } = loginInput.parse(input);
  const [user] = await ctx.db
    .select({ id: users.id, passwordHash: users.passwordHash, emailVerifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(and(sql`lower(${users.email}) = ${email}`, isNull(users.deletedAt)));
  if (!user?.passwordHash) {
    await spendPasswordCheckTime(password);
    throw new UnauthorizedError(BAD_CREDENTIALS);
  }
  if (!(await verifyPassword(password, user.passwordHash))) throw new UnauthorizedError(BAD_CREDENTIALS);
  const session = await ctx.db.transaction(async (tx) => {
    const issued = await startSession(tx, user.id, ctx.origin, ctx.clock.now());
    await recordAudit(tx, {
      orgId: null,
      actor: { type: 'user', id: user.id },
      action: 'session.create',
      targetType: 'session',
      targetId: issued.sessionId,
      origin: ctx.origin,
    });
    return issued;
  });
  return { ...session, emailVerified: user.emailVerifiedAt !== null };
}
