import { describe, expect, it } from 'vitest';
import { uptimeByMinute } from './uptime.ts';

const T = Date.UTC(2026, 10, 29, 12, 0, 0);
const minutes = [T, T + 60_000, T + 120_000];

describe('uptime and utilisation per minute', () => {
  it('counts each replica in the minutes it was up, running ones up to now', () => {
    const sessions = [
      { activeAtMs: T + 30_000, releasedAtMs: T + 90_000 },
      { activeAtMs: T + 100_000, releasedAtMs: null },
    ];
    const result = uptimeByMinute(sessions, minutes, [15, 30, 0], T + 150_000);
    expect(result.map((minute) => minute.replicaSeconds)).toEqual([30, 30 + 20, 30]);
    expect(result.map((minute) => minute.utilisation)).toEqual([0.5, 0.6, 0]);
  });

  it('caps utilisation at 1 when concurrent jobs overlap, and has none without a replica', () => {
    const result = uptimeByMinute(
      [{ activeAtMs: T, releasedAtMs: T + 60_000 }],
      minutes,
      [240, 5, 0],
      T + 180_000,
    );
    expect(result[0]).toEqual({ replicaSeconds: 60, utilisation: 1 });
    expect(result[1]).toEqual({ replicaSeconds: 0, utilisation: null });
  });
});
