import type { ReplicaState } from '../replicas/states.ts';

/**
 * Replicas that keep failing to start (an image that exits, an engine that cannot load its model, a
 * worker that never calls in: none of them ready, so none billed) are not replaced at once forever: each failure in a row doubles the
 * wait before the next start, as Kubernetes backs off a crash loop, and after `GIVE_UP_AFTER` in a
 * row with nothing running the deployment is stopped for its owner to fix. A replica that never came
 * up is never billed (billing starts when it is ready), so without this a broken deployment would hold
 * GPUs unpaid, one after another, for as long as it had a positive balance.
 */

/** A past replica of the endpoint, as far as whether it started matters. */
export interface PastReplica {
  state: ReplicaState;
  activeAtMs: number | null;
  /** When it ended (failed or released); null while live. */
  endedAtMs: number | null;
  /** The provider started something for it: a capacity refusal ran nothing and says nothing of the image. */
  started: boolean;
  failureReason: string | null;
}

/** The failure reason recorded on a replica released because its worker never called in. */
export const NEVER_CAME_UP = 'the worker never came up';
export const FIRST_BACKOFF_MS = 15_000;
export const MAX_BACKOFF_MS = 10 * 60_000;
/** Failed starts in a row, with no replica running, after which the deployment is stopped. */
export const GIVE_UP_AFTER = 10;

type Outcome = 'failed_start' | 'ran' | 'neither';

function outcomeOf(replica: PastReplica): Outcome {
  if (replica.state === 'active') return 'ran';
  if (replica.state === 'failed') {
    if (!replica.started) return 'neither';
    // One that became ready ran: the image works, and its time was billed. Its end (a crash, a spot
    // interruption, a kill) is replaced at once however often it happens; only unbilled starts back off.
    return replica.activeAtMs === null ? 'failed_start' : 'ran';
  }
  if (replica.state === 'released') {
    if (replica.activeAtMs !== null) return 'ran';
    return replica.failureReason === NEVER_CAME_UP ? 'failed_start' : 'neither';
  }
  // Still starting, or being released: no verdict yet.
  return 'neither';
}

export interface FailedStarts {
  count: number;
  /** When the latest of them ended; null when there are none. */
  lastEndedAtMs: number | null;
}

export const NO_FAILED_STARTS: FailedStarts = { count: 0, lastEndedAtMs: null };

/** The endpoint's failed starts since the last replica that ran, from its replicas newest first. */
export function failedStartsInARow(newestFirst: PastReplica[]): FailedStarts {
  let count = 0;
  let lastEndedAtMs: number | null = null;
  for (const replica of newestFirst) {
    const outcome = outcomeOf(replica);
    if (outcome === 'ran') break;
    if (outcome === 'failed_start') {
      count++;
      lastEndedAtMs = Math.max(lastEndedAtMs ?? 0, replica.endedAtMs ?? 0);
    }
  }
  return { count, lastEndedAtMs };
}

/**
 * The wait before the next start after `count` failed starts in a row: none after one (a crash is
 * replaced at once), then 15 s, 30 s, 1 min … up to 10 min.
 */
export const backoffMs = (count: number) =>
  count <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (count - 2));

export type StartHold =
  | { kind: 'backoff'; failedStarts: number; untilMs: number }
  | { kind: 'give_up'; failedStarts: number };

/** Whether a start the plan wants waits (backoff), or never comes (give up); null: start now. */
export function startHold(failed: FailedStarts, anyRunning: boolean, nowMs: number): StartHold | null {
  if (failed.count === 0) return null;
  if (failed.count >= GIVE_UP_AFTER && !anyRunning) return { kind: 'give_up', failedStarts: failed.count };
  const untilMs = (failed.lastEndedAtMs ?? 0) + backoffMs(failed.count);
  return nowMs < untilMs ? { kind: 'backoff', failedStarts: failed.count, untilMs } : null;
}
