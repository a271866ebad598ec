import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEARTBEAT_TIMEOUT_MS,
  planScaling,
  type ReplicaFacts,
  type ScalingFacts,
  STARTUP_TIMEOUT_MS,
} from './policy.ts';

const NOW = 10_000_000;
const knobs = { minReplicas: 0, maxReplicas: 4, concurrencyPerReplica: 2, idleTimeoutSeconds: 300 };
const replica = (id: string, over: Partial<ReplicaFacts> = {}): ReplicaFacts => ({
  id,
  state: 'active',
  requestedAtMs: NOW - 3_600_000,
  lastSeenAtMs: NOW - 1_000,
  lastBusyAtMs: NOW - 1_000,
  ...over,
});
const facts = (over: Partial<ScalingFacts>): ScalingFacts => ({
  knobs,
  queued: 0,
  running: 0,
  replicas: [],
  stopped: false,
  funded: true,
  spendCapReached: false,
  leaseMs: 30_000,
  failedStarts: { count: 0, lastEndedAtMs: null },
  nowMs: NOW,
  ...over,
});

describe('scaling policy', () => {
  it.each([
    [
      'wakes a scaled-to-zero endpoint for one request',
      facts({ queued: 1 }),
      { desired: 1, start: 1, release: [] },
    ],
    ['stays at zero with nothing to do', facts({}), { desired: 0, start: 0, release: [] }],
    [
      'keeps min replicas warm',
      facts({ knobs: { ...knobs, minReplicas: 2 } }),
      { desired: 2, start: 2, release: [] },
    ],
    [
      'scales out by concurrency',
      facts({ queued: 5, running: 2, replicas: [replica('a')] }),
      { desired: 4, start: 3, release: [] },
    ],
    ['never above max', facts({ queued: 100 }), { desired: 4, start: 4, release: [] }],
    [
      'counts a starting replica as capacity (no double start)',
      facts({
        queued: 1,
        replicas: [
          replica('a', {
            state: 'requested',
            lastSeenAtMs: null,
            lastBusyAtMs: null,
            requestedAtMs: NOW - 5_000,
          }),
        ],
      }),
      { desired: 1, start: 0, release: [] },
    ],
    [
      'keeps a replica idle for less than the idle timeout',
      facts({ replicas: [replica('a', { lastBusyAtMs: NOW - 299_000 })] }),
      { desired: 0, start: 0, release: [] },
    ],
    [
      'releases a replica idle past the idle timeout',
      facts({ replicas: [replica('a', { lastBusyAtMs: NOW - 301_000 })] }),
      { desired: 0, start: 0, release: [{ id: 'a', reason: 'idle' }] },
    ],
    [
      // A worker renews its busy mark only with its lease (every 10 s of a 30 s lease): a replica
      // marked 20 s ago may be running a job that streams nothing, whatever the idle timeout says.
      'never takes a replica for idle within a lease of its last busy mark',
      facts({
        knobs: { ...knobs, idleTimeoutSeconds: 10 },
        running: 1,
        replicas: [
          replica('quiet', { lastBusyAtMs: NOW - 20_000 }),
          replica('done', { lastBusyAtMs: NOW - 25_000 }),
        ],
      }),
      { desired: 1, start: 0, release: [] },
    ],
    [
      'releases a replica a lease past its last busy mark when the idle timeout is shorter',
      facts({
        knobs: { ...knobs, idleTimeoutSeconds: 10 },
        replicas: [replica('a', { lastBusyAtMs: NOW - 30_000 })],
      }),
      { desired: 0, start: 0, release: [{ id: 'a', reason: 'idle' }] },
    ],
    [
      'releases the idlest first and keeps what demand needs',
      facts({
        running: 2,
        replicas: [
          replica('busy'),
          replica('old', { lastBusyAtMs: NOW - 900_000 }),
          replica('idle', { lastBusyAtMs: NOW - 400_000 }),
        ],
      }),
      {
        desired: 1,
        start: 0,
        release: [
          { id: 'old', reason: 'idle' },
          { id: 'idle', reason: 'idle' },
        ],
      },
    ],
    [
      'releases a replica whose worker stopped heartbeating, and replaces it if needed',
      facts({ queued: 1, replicas: [replica('gone', { lastSeenAtMs: NOW - HEARTBEAT_TIMEOUT_MS - 1 })] }),
      { desired: 1, start: 1, release: [{ id: 'gone', reason: 'dead' }] },
    ],
    [
      'gives up on a replica that never came up',
      facts({
        replicas: [
          replica('stuck', {
            state: 'provisioning',
            lastSeenAtMs: null,
            requestedAtMs: NOW - STARTUP_TIMEOUT_MS - 1,
          }),
        ],
      }),
      { desired: 0, start: 0, release: [{ id: 'stuck', reason: 'never_started' }] },
    ],
    [
      'releases everything of a stopped endpoint',
      facts({ stopped: true, queued: 3, replicas: [replica('a')] }),
      { desired: 0, start: 0, release: [{ id: 'a', reason: 'stopped' }] },
    ],
    [
      'scales to zero when the org cannot pay',
      facts({ funded: false, queued: 3, knobs: { ...knobs, minReplicas: 1 }, replicas: [replica('a')] }),
      { desired: 0, start: 0, release: [{ id: 'a', reason: 'unfunded' }] },
    ],
    [
      'scales to zero when the endpoint reached its spend cap',
      facts({
        spendCapReached: true,
        queued: 3,
        knobs: { ...knobs, minReplicas: 1 },
        replicas: [replica('a')],
      }),
      { desired: 0, start: 0, release: [{ id: 'a', reason: 'spend_cap' }] },
    ],
    [
      'trims to a lowered max at once, idlest first',
      facts({
        queued: 50,
        knobs: { ...knobs, maxReplicas: 1 },
        replicas: [replica('a'), replica('b', { lastBusyAtMs: NOW - 5_000 })],
      }),
      { desired: 1, start: 0, release: [{ id: 'b', reason: 'over_max' }] },
    ],
  ])('%s', (_, input, expected) => {
    expect(planScaling(input)).toEqual(expected);
  });

  const arbitraryFacts = fc
    .record({
      min: fc.integer({ min: 0, max: 3 }),
      extra: fc.integer({ min: 0, max: 5 }),
      concurrency: fc.integer({ min: 1, max: 8 }),
      idle: fc.integer({ min: 0, max: 3600 }),
      leaseSeconds: fc.integer({ min: 2, max: 600 }),
      queued: fc.integer({ min: 0, max: 200 }),
      running: fc.integer({ min: 0, max: 50 }),
      replicas: fc.array(
        fc.record({
          state: fc.constantFrom('requested', 'provisioning', 'active') as fc.Arbitrary<
            ReplicaFacts['state']
          >,
          requestedAgo: fc.integer({ min: 0, max: 2 * STARTUP_TIMEOUT_MS }),
          seenAgo: fc.option(fc.integer({ min: 0, max: 2 * HEARTBEAT_TIMEOUT_MS })),
          busyAgo: fc.option(fc.integer({ min: 0, max: 7_200_000 })),
        }),
        { maxLength: 10 },
      ),
      stopped: fc.boolean(),
      funded: fc.boolean(),
      capped: fc.boolean(),
      failedStarts: fc.integer({ min: 0, max: 12 }),
      lastFailedAgo: fc.integer({ min: 0, max: 20 * 60_000 }),
    })
    .map(
      (r): ScalingFacts => ({
        knobs: {
          minReplicas: r.min,
          maxReplicas: r.min + r.extra,
          concurrencyPerReplica: r.concurrency,
          idleTimeoutSeconds: r.idle,
        },
        queued: r.queued,
        running: r.running,
        replicas: r.replicas.map((x, i) => ({
          id: `r${i}`,
          state: x.state,
          requestedAtMs: NOW - x.requestedAgo,
          lastSeenAtMs: x.seenAgo === null ? null : NOW - x.seenAgo,
          lastBusyAtMs: x.busyAgo === null ? null : NOW - x.busyAgo,
        })),
        stopped: r.stopped,
        funded: r.funded,
        spendCapReached: r.capped,
        leaseMs: r.leaseSeconds * 1000,
        failedStarts: {
          count: r.failedStarts,
          lastEndedAtMs: r.failedStarts > 0 ? NOW - r.lastFailedAgo : null,
        },
        nowMs: NOW,
      }),
    );

  const applied = (input: ScalingFacts) => {
    const plan = planScaling(input);
    const released = new Set(plan.release.map((r) => r.id));
    return { plan, remaining: input.replicas.length - released.size + plan.start, released };
  };

  it('takes a busy worker on a long lease for alive: its renewals (every third of a lease) are its sign of life', () => {
    const quiet = replica('a', { lastSeenAtMs: NOW - 150_000, lastBusyAtMs: NOW - 150_000 });
    const longLease = facts({ running: 1, replicas: [quiet], leaseMs: 300_000 });
    expect(planScaling(longLease)).toEqual({ desired: 1, start: 0, release: [] });
    // Past a whole lease without a sign of life, it is dead.
    const silent = { ...quiet, lastSeenAtMs: NOW - 300_001 };
    expect(planScaling({ ...longLease, replicas: [silent] }).release).toEqual([{ id: 'a', reason: 'dead' }]);
  });

  it('property: never plans above max, never below min while funded, and never releases a replica twice', () => {
    fc.assert(
      fc.property(arbitraryFacts, (input) => {
        const { plan, remaining, released } = applied(input);
        expect(released.size).toBe(plan.release.length);
        if (input.stopped || !input.funded || input.spendCapReached) {
          expect(remaining).toBe(0);
          return;
        }
        expect(plan.desired).toBeGreaterThanOrEqual(input.knobs.minReplicas);
        expect(plan.desired).toBeLessThanOrEqual(input.knobs.maxReplicas);
        // Only starts when below desired, and never starts and scales in at once.
        if (plan.start > 0)
          expect(plan.release.every((r) => r.reason !== 'idle' && r.reason !== 'over_max')).toBe(true);
        expect(remaining).toBeLessThanOrEqual(Math.max(input.knobs.maxReplicas, plan.desired));
        // A crash-loop hold starts nothing; otherwise the plan reaches what it wants.
        if (plan.hold) expect(plan.start).toBe(0);
        else expect(remaining).toBeGreaterThanOrEqual(plan.desired);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: converges — applying the plan and asking again (nothing changed) plans nothing', () => {
    fc.assert(
      fc.property(arbitraryFacts, (input) => {
        const { plan, released } = applied(input);
        const started: ReplicaFacts[] = Array.from({ length: plan.start }, (_, i) => ({
          id: `new${i}`,
          state: 'requested',
          requestedAtMs: NOW,
          lastSeenAtMs: null,
          lastBusyAtMs: null,
        }));
        const next = {
          ...input,
          replicas: [...input.replicas.filter((r) => !released.has(r.id)), ...started],
        };
        expect(planScaling(next)).toEqual({
          desired: plan.desired,
          start: 0,
          release: [],
          ...(plan.hold ? { hold: plan.hold } : {}),
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('property: no flapping — a replica busy within the idle timeout, or a lease, is never released for idleness', () => {
    fc.assert(
      fc.property(arbitraryFacts, (input) => {
        const plan = planScaling(input);
        for (const { id, reason } of plan.release) {
          if (reason !== 'idle') continue;
          const released = input.replicas.find((r) => r.id === id);
          const idleSince = released?.lastBusyAtMs ?? released?.requestedAtMs ?? NOW;
          expect(NOW - idleSince).toBeGreaterThanOrEqual(input.knobs.idleTimeoutSeconds * 1000);
          expect(NOW - idleSince).toBeGreaterThanOrEqual(input.leaseMs);
          expect(released?.state).toBe('active');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
