/** A replica's billed life: from `active` to `released` (still running: null). */
export interface UptimeSession {
  activeAtMs: number;
  releasedAtMs: number | null;
}

const MINUTE_MS = 60_000;

/**
 * Replica-seconds of uptime in each clock minute starting at `minuteStartsMs` (a running replica counts
 * up to `nowMs`), and how busy that uptime was: GPU seconds of work over replica-seconds, at most 1
 * (concurrent jobs share one replica's time); null for a minute without a replica.
 */
export function uptimeByMinute(
  sessions: UptimeSession[],
  minuteStartsMs: number[],
  gpuSecondsByMinute: number[],
  nowMs: number,
) {
  return minuteStartsMs.map((start, index) => {
    const end = Math.min(start + MINUTE_MS, nowMs);
    let seconds = 0;
    for (const session of sessions) {
      const from = Math.max(start, session.activeAtMs);
      const to = Math.min(end, session.releasedAtMs ?? nowMs);
      if (to > from) seconds += (to - from) / 1000;
    }
    const busy = gpuSecondsByMinute[index] ?? 0;
    return { replicaSeconds: seconds, utilisation: seconds > 0 ? Math.min(1, busy / seconds) : null };
  });
}
