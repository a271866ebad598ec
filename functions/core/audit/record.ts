import { auditLog } from '../../../db/schema/index.ts';
import type { Transaction } from '../../lib/db.ts';
import { type Actor, actorId, type RequestOrigin } from '../actor.ts';

export interface AuditActor {
  type: 'user' | 'api_key' | 'worker' | 'system';
  id: string;
}

export const auditActorOf = (actor: Actor): AuditActor => ({ type: actor.type, id: actorId(actor) });

export interface AuditEntry {
  orgId: string | null;
  actor: AuditActor;
  action: string;
  targetType: string;
  targetId: string;
  origin: RequestOrigin;
  /** Ids and names only: never secrets, tokens or whole request bodies. */
  metadata?: Record<string, unknown>;
}

/** Writes the audit row inside the caller's transaction, so a change and its record land together. */
export async function recordAudit(tx: Transaction, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    orgId: entry.orgId,
    actorType: entry.actor.type,
    actorId: entry.actor.id,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    ip: entry.origin.ip,
    userAgent: entry.origin.userAgent?.slice(0, 512) ?? null,
    metadata: entry.metadata ?? {},
  });
}
