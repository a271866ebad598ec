import { describe, expect, it } from 'vitest';
import { NUDGE_WINDOW_MS, scaleUpNudgeId, WAKE_WINDOW_MS } from './nudge.ts';

const at = (waiting: number, concurrencyPerReplica = 1, nowMs = 5 * NUDGE_WINDOW_MS, replicasGone = 0) =>
  scaleUpNudgeId({
    endpointId: 'ep_1',
    nowMs,
    waiting,
    concurrencyPerReplica,
    workerPolling: true,
    replicasGone,
  });
const wake = (nowMs: number, replicasGone = 0) =>
  scaleUpNudgeId({
    endpointId: 'ep_1',
    nowMs,
    waiting: 1,
    concurrencyPerReplica: 1,
    workerPolling: false,
    replicasGone,
  });

describe('scale-up nudge ids', () => {
  it('collapse a steady trickle within a window into one message', () => {
    expect(at(1)).toBe(at(1, 1, 5 * NUDGE_WINDOW_MS + NUDGE_WINDOW_MS - 1));
    expect(at(3, 4)).toBe(at(1, 4));
    expect(at(0)).toBe(at(1));
  });

  it('send one more each time the backlog doubles, so a burst scales out at once', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => at(i + 1));
    expect(new Set(ids).size).toBe(14);
    expect(at(2)).not.toBe(at(1));
    expect(at(3)).toBe(at(2));
    expect(at(4)).not.toBe(at(3));
    // With 8 jobs per replica, 16 waiting is two replicas' worth: a new message.
    expect(at(16, 8)).not.toBe(at(8, 8));
  });

  it('start afresh in the next window and per endpoint', () => {
    expect(at(1, 1, 6 * NUDGE_WINDOW_MS)).not.toBe(at(1));
    expect(
      scaleUpNudgeId({
        endpointId: 'ep_2',
        nowMs: 5 * NUDGE_WINDOW_MS,
        waiting: 1,
        concurrencyPerReplica: 1,
        workerPolling: true,
        replicasGone: 0,
      }),
    ).not.toBe(at(1));
  });

  it('wake an endpoint nobody polls at most once a second, apart from scale-out nudges', () => {
    const start = 5 * NUDGE_WINDOW_MS;
    expect(wake(start)).toBe(wake(start + WAKE_WINDOW_MS - 1));
    // Scaled to zero right after a wake-up: the next request, a second later, wakes it again.
    expect(wake(start + WAKE_WINDOW_MS)).not.toBe(wake(start));
    expect(wake(start)).not.toBe(at(1, 1, start));
  });

  it('are never deduplicated against a nudge sent before a replica left', () => {
    const start = 5 * NUDGE_WINDOW_MS;
    // Woken, scaled up, then stopped again within the same second: the next request wakes it again.
    expect(wake(start + 500, 1)).not.toBe(wake(start, 0));
    expect(at(1, 1, start, 3)).not.toBe(at(1, 1, start, 2));
  });
});
