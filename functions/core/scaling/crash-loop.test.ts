import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  failedStartsInARow,
  GIVE_UP_AFTER,
  MAX_BACKOFF_MS,
  NEVER_CAME_UP,
  type PastReplica,
  startHold,
} from './crash-loop.ts';
import { planScaling, type ScalingFacts } from './policy.ts';

const NOW = 50_000_000;
const past = (over: Partial<PastReplica>): PastReplica => ({
  state: 'failed',
  activeAtMs: null,
  endedAtMs: NOW - 1_000,
  started: true,
  failureReason: 'exit code 1',
  ...over,
});

describe('failed starts in a row', () => {
  it('counts replicas that exited before becoming ready, or never came up', () => {
    const failed = failedStartsInARow([
      past({ endedAtMs: NOW - 1_000 }),
      past({ state: 'released', failureReason: NEVER_CAME_UP, endedAtMs: NOW - 60_000 }),
      past({ endedAtMs: NOW - 120_000 }),
    ]);
    expect(failed).toEqual({ count: 3, lastEndedAtMs: NOW - 1_000 });
  });

  it('stops counting at a replica that became ready: live, ended however soon after (a crash, a spot interruption), or released', () => {
    const older = past({});
    expect(failedStartsInARow([past({}), past({ state: 'active', endedAtMs: null }), older]).count).toBe(1);
    const interrupted = past({ activeAtMs: NOW - 30_000, endedAtMs: NOW - 20_000 });
    expect(failedStartsInARow([past({}), interrupted, older]).count).toBe(1);
    const scaledIn = past({ state: 'released', activeAtMs: NOW - 600_000, failureReason: null });
    expect(failedStartsInARow([scaledIn, older]).count).toBe(0);
  });

  it('passes over replicas that say nothing of the image: refused for capacity, still starting, released before they came up', () => {
    const failed = failedStartsInARow([
      past({ started: false, failureReason: 'no capacity for a10g', endedAtMs: null }),
      past({ state: 'provisioning', endedAtMs: null, failureReason: null }),
      past({ state: 'released', failureReason: null }),
      past({ endedAtMs: NOW - 5_000 }),
    ]);
    expect(failed).toEqual({ count: 1, lastEndedAtMs: NOW - 5_000 });
  });
});

describe('the start after failed starts', () => {
  it('comes at once after one failure, then waits twice as long after each, up to ten minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(backoffMs)).toEqual([
      0,
      15_000,
      30_000,
      60_000,
      120_000,
      240_000,
      480_000,
      MAX_BACKOFF_MS,
      MAX_BACKOFF_MS,
    ]);
    expect(startHold({ count: 1, lastEndedAtMs: NOW }, false, NOW)).toBeNull();
    expect(startHold({ count: 3, lastEndedAtMs: NOW - 29_000 }, false, NOW)).toEqual({
      kind: 'backoff',
      failedStarts: 3,
      untilMs: NOW + 1_000,
    });
    expect(startHold({ count: 3, lastEndedAtMs: NOW - 30_000 }, false, NOW)).toBeNull();
  });

  it('never comes after GIVE_UP_AFTER failures with nothing running; with a replica serving it keeps backing off', () => {
    const failed = { count: GIVE_UP_AFTER, lastEndedAtMs: NOW - MAX_BACKOFF_MS - 1 };
    expect(startHold(failed, false, NOW)).toEqual({ kind: 'give_up', failedStarts: GIVE_UP_AFTER });
    expect(startHold(failed, true, NOW)).toBeNull();
    expect(startHold({ ...failed, lastEndedAtMs: NOW }, true, NOW)?.kind).toBe('backoff');
  });

  it('holds back the scaling plan: nothing started while it backs off', () => {
    const facts: ScalingFacts = {
      knobs: { minReplicas: 1, maxReplicas: 2, concurrencyPerReplica: 1, idleTimeoutSeconds: 300 },
      queued: 3,
      running: 0,
      replicas: [],
      stopped: false,
      funded: true,
      spendCapReached: false,
      leaseMs: 30_000,
      failedStarts: { count: 4, lastEndedAtMs: NOW - 10_000 },
      nowMs: NOW,
    };
    expect(planScaling(facts)).toEqual({
      desired: 2,
      start: 0,
      release: [],
      hold: { kind: 'backoff', failedStarts: 4, untilMs: NOW + 50_000 },
    });
    expect(planScaling({ ...facts, nowMs: NOW + 50_000 })).toEqual({ desired: 2, start: 2, release: [] });
  });
});
