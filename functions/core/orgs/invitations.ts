import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { invitations, memberships, orgs, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { assertVerified, humanBehind } from '../actor.ts';
import { auditActorOf, recordAudit } from '../audit/record.ts';
import { emailInput } from '../auth/inputs.ts';
import { randomToken, sha256Hex } from '../auth/secrets.ts';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.ts';
import { isId, newId } from '../ids.ts';
import { sendBestEffort } from '../mail/send.ts';
import { invitationEmail } from '../mail/templates.ts';
import { confirmAuthority } from './authority.ts';
import { authorize, requireUser } from './authorize.ts';
import { assertCanGrant } from './permissions.ts';
import { ROLES } from './roles.ts';

const INVITATION_TTL_MS = 7 * 86_400_000;

export interface InvitationView {
  id: string;
  object: 'invitation';
  email: string;
  role: string;
  invited_by_user_id: string | null;
  created_at: string;
  expires_at: string;
}

const toView = (row: typeof invitations.$inferSelect): InvitationView => ({
  id: row.id,
  object: 'invitation',
  email: row.email,
  role: row.role,
  invited_by_user_id: row.invitedByUserId,
  created_at: row.createdAt.toISOString(),
  expires_at: row.expiresAt.toISOString(),
});

export const invitationInput = z.object({ email: emailInput, role: z.enum(ROLES) }).strict();

/** Invites an address; inviting it again replaces the open invitation (and its link). */
export async function createInvitation({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof invitationInput>;
}) {
  const { caller, role: callerRole } = authorize(ctx.caller, 'invitation.manage');
  assertVerified(caller.actor);
  const { email, role } = invitationInput.parse(input);
  assertCanGrant(callerRole, role);
  const now = ctx.clock.now();
  const token = randomToken(32);
  const { row, orgName } = await ctx.db.transaction(async (tx) => {
    // Granted with the role held when it is written, not when the request arrived.
    assertCanGrant(await confirmAuthority(tx, caller, 'invitation.manage'), role);
    const [org] = await tx.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, caller.orgId));
    const [member] = await tx
      .select({ id: memberships.id })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.orgId, caller.orgId), sql`lower(${users.email}) = ${email}`));
    if (member) throw new ConflictError('This person is already a member.', { param: 'email' });
    await tx
      .update(invitations)
      .set({ revokedAt: now })
      .where(
        and(
          eq(invitations.orgId, caller.orgId),
          eq(invitations.email, email),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      );
    const [inserted] = await tx
      .insert(invitations)
      .values({
        id: newId('invitation'),
        orgId: caller.orgId,
        email,
        role,
        tokenHash: await sha256Hex(token),
        // A key's invitation is its creator's: removing or demoting that person withdraws it too.
        invitedByUserId: humanBehind(caller.actor),
        expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
      })
      .returning();
    if (!inserted) throw new Error('insert returned no row');
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'invitation.create',
      targetType: 'invitation',
      targetId: inserted.id,
      origin: ctx.origin,
      metadata: { email, role },
    });
    return { row: inserted, orgName: org?.name ?? 'an organization' };
  });
  sendBestEffort(ctx, invitationEmail(ctx.config.PUBLIC_URL, email, token, orgName, role));
  return toView(row);
}

export async function listInvitations({ ctx }: { ctx: ServiceContext }): Promise<InvitationView[]> {
  const { caller } = authorize(ctx.caller, 'invitation.read');
  const rows = await ctx.db
    .select()
    .from(invitations)
    .where(
      and(
        eq(invitations.orgId, caller.orgId),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
        gt(invitations.expiresAt, ctx.clock.now()),
      ),
    )
    .orderBy(desc(invitations.id));
  return rows.map(toView);
}

export async function revokeInvitation({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<void> {
  const { caller } = authorize(ctx.caller, 'invitation.manage');
  const notFound = new NotFoundError('Invitation not found.', { param: 'id' });
  if (!isId('invitation', id)) throw notFound;
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(invitations)
      .set({ revokedAt: ctx.clock.now() })
      .where(
        and(
          eq(invitations.id, id),
          eq(invitations.orgId, caller.orgId),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .returning();
    if (!row) throw notFound;
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'invitation.revoke',
      targetType: 'invitation',
      targetId: row.id,
      origin: ctx.origin,
      metadata: { email: row.email },
    });
  });
}

/**
 * Joins the org the link invites to. Only the invited address may accept, and only once it is
 * verified: a forwarded link is useless to anyone else.
 */
export async function acceptInvitation({ ctx, token }: { ctx: ServiceContext; token: string }) {
  const user = requireUser(ctx.caller);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ invitation: invitations, email: users.email, verifiedAt: users.emailVerifiedAt })
      .from(invitations)
      .innerJoin(orgs, and(eq(orgs.id, invitations.orgId), isNull(orgs.deletedAt)))
      .innerJoin(users, eq(users.id, user.userId))
      .where(
        and(
          eq(invitations.tokenHash, await sha256Hex(token)),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
          gt(invitations.expiresAt, now),
        ),
      )
      .for('update', { of: invitations });
    if (!row) throw new InvalidRequestError('This invitation is invalid or has expired.', { param: 'token' });
    if (row.email.toLowerCase() !== row.invitation.email) {
      throw new ForbiddenError(
        `This invitation is for another email address. Sign in as ${row.invitation.email} to accept it.`,
      );
    }
    if (!row.verifiedAt)
      throw new ForbiddenError('Verify your email address first: follow the link we sent you.');
    const joined = await tx
      .insert(memberships)
      .values({ orgId: row.invitation.orgId, userId: user.userId, role: row.invitation.role })
      .onConflictDoNothing()
      .returning({ id: memberships.id });
    if (joined.length === 0) throw new ConflictError('You are already a member of this organization.');
    await tx
      .update(invitations)
      .set({ acceptedAt: now, acceptedByUserId: user.userId })
      .where(eq(invitations.id, row.invitation.id));
    await recordAudit(tx, {
      orgId: row.invitation.orgId,
      actor: { type: 'user', id: user.userId },
      action: 'invitation.accept',
      targetType: 'invitation',
      targetId: row.invitation.id,
      origin: ctx.origin,
      metadata: { role: row.invitation.role },
    });
    return { org_id: row.invitation.orgId, role: row.invitation.role };
  });
}
