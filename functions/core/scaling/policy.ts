import { type FailedStarts, type StartHold, startHold } from './crash-loop.ts';

/**
 * How many replicas an endpoint should run, and which to start or release. Pure: the orchestrator
 * gathers the facts (queue depth, replicas and their last signs of life and work, the endpoint's
 * knobs, the balance) and carries out the plan.
 *
 * desired = clamp(ceil((queued + running) / concurrency), min, max), 0 when stopped or out of funds.
 * Scaling out is immediate; scaling in waits until a replica has been idle for the idle timeout, and
 * at least one lease, so a replica running a job that streams nothing is never taken for idle
 * (hysteresis too: a gap between bursts never releases a replica only to start another). Replicas that
 * stopped heartbeating, or never came up, are released as dead whatever the demand. Starts after
 * failed starts in a row wait, longer each time (crash-loop backoff, `crash-loop.ts`).
 */
export interface ScalingKnobs {
  minReplicas: number;
  maxReplicas: number;
  concurrencyPerReplica: number;
  idleTimeoutSeconds: number;
}

export interface ReplicaFacts {
  id: string;
  state: 'requested' | 'provisioning' | 'active';
  /** When the orchestrator asked for it. */
  requestedAtMs: number;
  /** Last time its worker polled the edge (any sign of life); null before the first. */
  lastSeenAtMs: number | null;
  /** Last time it held a job; null if never. */
  lastBusyAtMs: number | null;
}

export interface ScalingFacts {
  knobs: ScalingKnobs;
  queued: number;
  running: number;
  replicas: ReplicaFacts[];
  /** The endpoint is stopped by its owner. */
  stopped: boolean;
  /** The org can pay (a positive balance). */
  funded: boolean;
  /** The endpoint reached its daily or monthly spend cap. */
  spendCapReached: boolean;
  /**
   * How long a worker's lease on a job lasts. A worker renews its leases (and so its busy mark) well
   * within that, even for a job that streams nothing, so a replica whose last busy mark is older than
   * a lease holds no job; one more recent may (a quiet job between renewals) and is never idle.
   */
  leaseMs: number;
  /** The endpoint's failed starts since a replica last ran (or its settings last changed). */
  failedStarts: FailedStarts;
  nowMs: number;
}

/**
 * How long a worker may go without polling before its replica is declared dead; a lease, when longer:
 * a worker whose every slot is busy only renews its leases (every third of a lease), and that is
 * its sign of life.
 */
export const HEARTBEAT_TIMEOUT_MS = 90_000;
/** How long a replica may take from request to its worker's first poll (image pull, weights). */
export const STARTUP_TIMEOUT_MS = 20 * 60_000;

/** Why a replica is released; `retried` is a release that failed or was cut short, tried again. */
export type ReleaseReason =
  | 'idle'
  | 'dead'
  | 'never_started'
  | 'stopped'
  | 'unfunded'
  | 'spend_cap'
  | 'over_max'
  | 'retried';

export interface ScalingPlan {
  desired: number;
  start: number;
  release: { id: string; reason: ReleaseReason }[];
  /** Replicas wanted but not started: a crash-loop backoff, or giving up (the endpoint is to stop). */
  hold?: StartHold;
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

export function planScaling(facts: ScalingFacts): ScalingPlan {
  const { knobs, nowMs } = facts;
  const release: ScalingPlan['release'] = [];
  const alive: ReplicaFacts[] = [];
  for (const replica of facts.replicas) {
    if (replica.lastSeenAtMs === null) {
      if (nowMs - replica.requestedAtMs > STARTUP_TIMEOUT_MS)
        release.push({ id: replica.id, reason: 'never_started' });
      else alive.push(replica);
    } else if (nowMs - replica.lastSeenAtMs > Math.max(HEARTBEAT_TIMEOUT_MS, facts.leaseMs)) {
      release.push({ id: replica.id, reason: 'dead' });
    } else {
      alive.push(replica);
    }
  }

  if (facts.stopped || !facts.funded || facts.spendCapReached) {
    const reason: ReleaseReason = facts.stopped ? 'stopped' : !facts.funded ? 'unfunded' : 'spend_cap';
    return { desired: 0, start: 0, release: [...release, ...alive.map(({ id }) => ({ id, reason }))] };
  }

  const demand = Math.ceil((facts.queued + facts.running) / Math.max(1, knobs.concurrencyPerReplica));
  const desired = clamp(demand, knobs.minReplicas, knobs.maxReplicas);
  if (alive.length < desired) {
    const anyRunning = alive.some((replica) => replica.state === 'active');
    const hold = startHold(facts.failedStarts, anyRunning, nowMs);
    return hold ? { desired, start: 0, release, hold } : { desired, start: desired - alive.length, release };
  }

  // Idlest first; among equals the newest, so the replicas up longest (warm caches) stay.
  const idleSince = (replica: ReplicaFacts) => replica.lastBusyAtMs ?? replica.requestedAtMs;
  const byIdleness = [...alive].sort(
    (a, b) => idleSince(a) - idleSince(b) || b.requestedAtMs - a.requestedAtMs,
  );
  // Over the maximum (it was lowered): the idlest go at once, busy or not.
  const overMax = Math.max(0, alive.length - knobs.maxReplicas);
  for (const { id } of byIdleness.slice(0, overMax)) release.push({ id, reason: 'over_max' });
  let surplus = alive.length - overMax - desired;
  const idleAfterMs = Math.max(knobs.idleTimeoutSeconds * 1000, facts.leaseMs);
  for (const replica of byIdleness.slice(overMax)) {
    if (surplus <= 0) break;
    if (replica.state !== 'active' || nowMs - idleSince(replica) < idleAfterMs) continue;
    release.push({ id: replica.id, reason: 'idle' });
    surplus--;
  }
  return { desired, start: 0, release };
}
