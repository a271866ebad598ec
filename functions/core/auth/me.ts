import { eq } from 'drizzle-orm';
import { users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { UnauthorizedError } from '../errors.ts';
import { requireUser } from '../orgs/authorize.ts';

/** The signed-in user, and the org and role the request acts with. */
export async function getMe({ ctx }: { ctx: ServiceContext }) {
  const actor = requireUser(ctx.caller);
  const [user] = await ctx.db.select().from(users).where(eq(users.id, actor.userId));
  if (!user || !ctx.caller) throw new UnauthorizedError();
  return {
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      email_verified: user.emailVerifiedAt !== null,
      created_at: user.createdAt.toISOString(),
    },
    org_id: ctx.caller.orgId,
    role: actor.role,
  };
}
