import type { Client } from '@upstash/qstash';
import { RECONCILE_PATH } from './nudge.ts';

export const RECONCILE_SCHEDULE_ID = 'reconcile-endpoints';

/**
 * The minute schedule that reconciles every endpoint (idle scale-in, dead replicas, min replicas,
 * missed nudges). Idempotent by schedule id: run it on every deploy, and `npm run dev` runs it at start.
 */
export async function ensureReconcileSchedule(client: Client, publicUrl: string) {
  await client.schedules.create({
    scheduleId: RECONCILE_SCHEDULE_ID,
    destination: new URL(RECONCILE_PATH, publicUrl).toString(),
    cron: '* * * * *',
    body: '{}',
    headers: { 'content-type': 'application/json' },
    retries: 0,
  });
}
