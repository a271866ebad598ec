/** Nudges for one endpoint within this window collapse into one QStash message (deduplicated by id). */
export const NUDGE_WINDOW_MS = 10_000;
/**
 * Wake-ups (no replica polling) collapse over a much shorter window: the endpoint may have scaled to
 * zero moments after the last one, and a request must never wait for the minute schedule.
 */
export const WAKE_WINDOW_MS = 1_000;

/**
 * The deduplication id of a scale-up nudge. Within a window, a nudge repeats only when the backlog has
 * doubled (in replicas' worth of jobs) since one was sent: a burst whose first request woke the
 * orchestrator while one job was queued is seen again once it needs two replicas, four, eight…, so it
 * scales out within seconds instead of at the next minute, yet 10,000 requests send about 14 messages.
 */
export function scaleUpNudgeId(input: {
  endpointId: string;
  nowMs: number;
  waiting: number;
  concurrencyPerReplica: number;
  workerPolling: boolean;
  /**
   * How many replicas have left the endpoint so far. A nudge sent before the last one left was
   * answered by a reconcile that still counted it: a nudge after it must not be deduplicated away.
   */
  replicasGone: number;
}): string {
  const endpoint = `${input.endpointId}-${input.replicasGone}`;
  if (!input.workerPolling) return `wake-${endpoint}-${Math.floor(input.nowMs / WAKE_WINDOW_MS)}`;
  const window = Math.floor(input.nowMs / NUDGE_WINDOW_MS);
  const replicasWorth = Math.max(1, Math.ceil(input.waiting / Math.max(1, input.concurrencyPerReplica)));
  const doublings = Math.floor(Math.log2(replicasWorth));
  return `scale-up-${endpoint}-${window}-${doublings}`;
}
