import { and, desc, eq, gt } from 'drizzle-orm';
import { replicas } from '../../../db/schema/index.ts';
import type { ReplicaState } from '../../core/replicas/states.ts';
import { type FailedStarts, failedStartsInARow, GIVE_UP_AFTER } from '../../core/scaling/crash-loop.ts';
import type { Database, Transaction } from '../db.ts';

/**
 * The endpoint's failed starts in a row, read from its latest replicas since its settings last
 * changed or it was last started (either resets a crash loop: the owner may have fixed it). Replicas
 * that failed for want of capacity can come between the failures, hence more rows than the count.
 */
export async function failedStartsOf(
  db: Database | Transaction,
  endpoint: { id: string; updatedAt: Date },
): Promise<FailedStarts> {
  const rows = await db
    .select({
      state: replicas.state,
      activeAt: replicas.activeAt,
      releasedAt: replicas.releasedAt,
      providerRef: replicas.providerRef,
      failureReason: replicas.failureReason,
    })
    .from(replicas)
    .where(and(eq(replicas.endpointId, endpoint.id), gt(replicas.requestedAt, endpoint.updatedAt)))
    .orderBy(desc(replicas.requestedAt))
    .limit(GIVE_UP_AFTER * 5);
  return failedStartsInARow(
    rows.map((row) => ({
      state: row.state as ReplicaState,
      activeAtMs: row.activeAt?.getTime() ?? null,
      endedAtMs: row.releasedAt?.getTime() ?? null,
      started: row.providerRef !== null,
      failureReason: row.failureReason,
    })),
  );
}
