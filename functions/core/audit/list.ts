import { and, desc, eq, lt } from 'drizzle-orm';
import { auditLog } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { authorize } from '../orgs/authorize.ts';
import { pageOf } from '../page.ts';

export interface ListAuditInput {
  limit: number;
  after?: string | undefined;
  action?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
}

/** The org's audit trail, newest first, paged by id (ids sort by creation time). */
export async function listAudit({ ctx, input }: { ctx: ServiceContext; input: ListAuditInput }) {
  const { caller } = authorize(ctx.caller, 'audit.read');
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.orgId, caller.orgId),
        input.after ? lt(auditLog.id, input.after) : undefined,
        input.action ? eq(auditLog.action, input.action) : undefined,
        input.actorId ? eq(auditLog.actorId, input.actorId) : undefined,
        input.targetId ? eq(auditLog.targetId, input.targetId) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (row) => ({
    id: row.id,
    object: 'audit_event' as const,
    action: row.action,
    actor: { type: row.actorType, id: row.actorId },
    target: { type: row.targetType, id: row.targetId },
    ip: row.ip,
    user_agent: row.userAgent,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
  }));
}
