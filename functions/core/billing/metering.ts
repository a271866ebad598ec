import { costMicroUsd } from './cost.ts';

/**
 * Replica uptime becomes one charge per replica per minute: idempotent by (replica, minute), so a
 * late or repeated metering run charges nothing twice. Uptime runs from `active` to `released`,
 * billed per second at the replica's hourly price, with a 60-second minimum per replica session.
 */
export interface ReplicaSession {
  activeAtMs: number;
  /** Null while the replica runs. */
  releasedAtMs: number | null;
  pricePerHourMicroUsd: number;
}

export interface MinuteCharge {
  /** Start of the clock minute (ms since epoch): the idempotency unit. */
  minuteMs: number;
  /** Seconds of uptime charged in this minute. */
  seconds: number;
  amountMicroUsd: number;
}

export const MINIMUM_SESSION_SECONDS = 60;
const MINUTE_MS = 60_000;

/**
 * The charges for every minute of the session that is complete by `nowMs` (a running replica's
 * current minute waits for the next run). Amounts are differences of the cumulative cost, so a minute
 * once charged never changes and the minutes add up to the uptime's cost, rounding included.
 */
export function minuteCharges(session: ReplicaSession, nowMs: number): MinuteCharge[] {
  const end = session.releasedAtMs ?? nowMs;
  if (end <= session.activeAtMs) return [];
  const charges: MinuteCharge[] = [];
  let billedSeconds = 0;
  for (
    let minute = Math.floor(session.activeAtMs / MINUTE_MS) * MINUTE_MS;
    minute < end;
    minute += MINUTE_MS
  ) {
    const sliceEnd = Math.min(minute + MINUTE_MS, end);
    const complete = session.releasedAtMs !== null ? true : minute + MINUTE_MS <= nowMs;
    if (!complete) break;
    const seconds = (sliceEnd - Math.max(minute, session.activeAtMs)) / 1000;
    const before = costMicroUsd(billedSeconds, session.pricePerHourMicroUsd);
    billedSeconds += seconds;
    const amount = costMicroUsd(billedSeconds, session.pricePerHourMicroUsd) - before;
    charges.push({ minuteMs: minute, seconds, amountMicroUsd: amount });
  }
  return charges;
}

/**
 * What a released session shorter than the minimum still owes (its own charge, keyed by the replica
 * alone, since its minutes may already be charged); 0 otherwise.
 */
export function minimumTopUp(session: ReplicaSession): number {
  if (session.releasedAtMs === null) return 0;
  const uptime = Math.max(0, (session.releasedAtMs - session.activeAtMs) / 1000);
  if (uptime >= MINIMUM_SESSION_SECONDS) return 0;
  return (
    sessionCost({ ...session, releasedAtMs: session.releasedAtMs }) -
    costMicroUsd(uptime, session.pricePerHourMicroUsd)
  );
}

/** The session's total, as the catalog prices it: per second, at least a minute. */
export function sessionCost(session: ReplicaSession & { releasedAtMs: number }): number {
  const seconds = Math.max(MINIMUM_SESSION_SECONDS, (session.releasedAtMs - session.activeAtMs) / 1000);
  return costMicroUsd(seconds, session.pricePerHourMicroUsd);
}
