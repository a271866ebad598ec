import { and, eq } from 'drizzle-orm';
import { apiKeys, memberships, orgs } from '../../../db/schema/index.ts';
import type { Transaction } from '../../lib/db.ts';
import type { Caller } from '../actor.ts';
import { ForbiddenError } from '../errors.ts';
import { authorize } from './authorize.ts';
import type { Permission } from './permissions.ts';
import type { Role } from './roles.ts';

/**
 * The caller's authority, confirmed inside a transaction that grants some of it (a key, an
 * invitation, a role). A request is authorized when it arrives; a removal or demotion committed
 * between that and this transaction's writes would sweep the member's keys and invitations before
 * this one existed, leaving it behind with the power just taken away. So the org row is locked for
 * share (a member's removal or role change holds it for update, so the two run one after the other)
 * and the caller's role read again after it. `orgLocked`: the transaction already holds the org row.
 * Answers the role the caller holds now.
 */
export async function confirmAuthority(
  tx: Transaction,
  caller: Caller,
  permission: Permission,
  { orgLocked = false }: { orgLocked?: boolean } = {},
): Promise<Role> {
  if (!orgLocked) await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, caller.orgId)).for('share');
  const { actor } = caller;
  let role: Role | null = null;
  if (actor.type === 'user') {
    const [membership] = await tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.orgId, caller.orgId), eq(memberships.userId, actor.userId)));
    role = (membership?.role as Role | undefined) ?? null;
  } else if (actor.kind === 'account') {
    const [key] = await tx
      .select({ role: apiKeys.role, revokedAt: apiKeys.revokedAt })
      .from(apiKeys)
      .where(eq(apiKeys.id, actor.keyId));
    role = key && key.revokedAt === null ? (key.role as Role | null) : null;
  }
  if (role === null) throw new ForbiddenError('You no longer have a role in this organization.');
  return authorize({ ...caller, actor: { ...actor, role } as Caller['actor'] }, permission).role;
}
