import { and, asc, desc, eq, gt, lt } from 'drizzle-orm';
import { replicaEvents } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { newId } from '../ids.ts';
import type { ReplicaState } from './states.ts';

type Writer = Pick<ServiceContext['db'], 'insert'>;

export interface ReplicaEventInput {
  orgId: string;
  endpointId: string;
  replicaId: string;
  state: ReplicaState;
  detail?: string | null;
}

/** Records a step of a replica's life; callers write it with the state change it describes. */
export async function recordReplicaEvents(db: Writer, events: ReplicaEventInput[]) {
  if (events.length === 0) return;
  await db
    .insert(replicaEvents)
    .values(events.map((event) => ({ id: newId('replicaEvent'), ...event, detail: event.detail ?? null })));
}

/** A deployment's replica events, newest first; `before` (an event id) pages back. */
export async function listReplicaEvents(
  ctx: ServiceContext,
  endpointId: string,
  page: { limit: number; before?: string | undefined },
) {
  const rows = await ctx.db
    .select()
    .from(replicaEvents)
    .where(
      and(
        eq(replicaEvents.endpointId, endpointId),
        page.before ? lt(replicaEvents.id, page.before) : undefined,
      ),
    )
    .orderBy(desc(replicaEvents.id))
    .limit(page.limit);
  return rows.map(toEventView);
}

const toEventView = (row: typeof replicaEvents.$inferSelect) => ({
  id: row.id,
  object: 'replica_event' as const,
  replica_id: row.replicaId,
  state: row.state,
  detail: row.detail,
  created_at: row.createdAt.toISOString(),
});

/** Events newer than `after` (an event id), oldest first: what a status stream sends next. */
export async function replicaEventsAfter(ctx: ServiceContext, endpointId: string, after: string | null) {
  const rows = await ctx.db
    .select()
    .from(replicaEvents)
    .where(and(eq(replicaEvents.endpointId, endpointId), after ? gt(replicaEvents.id, after) : undefined))
    .orderBy(asc(replicaEvents.id))
    .limit(100);
  return rows.map(toEventView);
}

/**
 * Why the deployment has no replica, when its latest attempt to start one failed within `withinMs`
 * (the reason shown to callers whose requests waited in vain); null when nothing failed lately.
 */
export async function recentStartFailure(ctx: ServiceContext, endpointId: string, withinMs: number) {
  const [latest] = await ctx.db
    .select({ state: replicaEvents.state, detail: replicaEvents.detail, at: replicaEvents.createdAt })
    .from(replicaEvents)
    .where(eq(replicaEvents.endpointId, endpointId))
    .orderBy(desc(replicaEvents.id))
    .limit(1);
  if (latest?.state !== 'failed') return null;
  if (ctx.clock.now().getTime() - latest.at.getTime() > withinMs) return null;
  return latest.detail ?? 'the replica failed to start';
}
