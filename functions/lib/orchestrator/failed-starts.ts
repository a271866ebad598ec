import { and, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { endpoints, replicas } from '../../../db/schema/index.ts';
import type { ReplicaState } from '../../core/replicas/states.ts';
import {
  type FailedStarts,
  failedStartsInARow,
  GIVE_UP_AFTER,
  NO_FAILED_STARTS,
  type PastReplica,
} from '../../core/scaling/crash-loop.ts';
import type { Database, Transaction } from '../db.ts';

/** Replicas that failed for want of capacity can come between the failures: more rows than the count. */
const ROWS_PER_ENDPOINT = GIVE_UP_AFTER * 5;

/**
 * Each endpoint's failed starts in a row, read in one query from its latest replicas since its
 * settings last changed or it was last started (either resets a crash loop: the owner may have fixed
 * it). Endpoints with none answer a count of 0.
 */
export async function failedStartsOf(
  db: Database | Transaction,
  endpointIds: string[],
): Promise<Map<string, FailedStarts>> {
  const failed = new Map<string, FailedStarts>(endpointIds.map((id) => [id, NO_FAILED_STARTS]));
  if (endpointIds.length === 0) return failed;
  const ranked = db
    .select({
      endpointId: replicas.endpointId,
      state: replicas.state,
      activeAt: replicas.activeAt,
      releasedAt: replicas.releasedAt,
      providerRef: replicas.providerRef,
      failureReason: replicas.failureReason,
      rank: sql<number>`row_number() over (partition by ${replicas.endpointId} order by ${replicas.requestedAt} desc)`.as(
        'rank',
      ),
    })
    .from(replicas)
    .innerJoin(endpoints, eq(endpoints.id, replicas.endpointId))
    .where(and(inArray(replicas.endpointId, endpointIds), gt(replicas.requestedAt, endpoints.updatedAt)))
    .as('ranked');
  const rows = await db
    .select()
    .from(ranked)
    .where(lte(ranked.rank, ROWS_PER_ENDPOINT))
    .orderBy(ranked.endpointId, ranked.rank);
  const newestFirst = new Map<string, PastReplica[]>();
  for (const row of rows) {
    const history = newestFirst.get(row.endpointId) ?? [];
    history.push({
      state: row.state as ReplicaState,
      activeAtMs: row.activeAt?.getTime() ?? null,
      endedAtMs: row.releasedAt?.getTime() ?? null,
      started: row.providerRef !== null,
      failureReason: row.failureReason,
    });
    newestFirst.set(row.endpointId, history);
  }
  for (const [endpointId, history] of newestFirst) failed.set(endpointId, failedStartsInARow(history));
  return failed;
}
