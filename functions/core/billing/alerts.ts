/**
 * Low-balance warnings. An org lists balance levels (e.g. $10 and $0); each level is emailed once
 * when the balance first drops below it, and re-armed when a top-up lifts the balance above it.
 * `alertedBelow` is the lowest level already warned about (null: none).
 */
export function levelBelow(balanceMicroUsd: number, thresholdsMicroUsd: readonly number[]): number | null {
  const crossed = thresholdsMicroUsd.filter((threshold) => balanceMicroUsd < threshold);
  return crossed.length === 0 ? null : Math.min(...crossed);
}

/** After a debit: the level to warn about now, if the balance fell below one not yet warned about. */
export function alertToSend(
  balanceMicroUsd: number,
  thresholdsMicroUsd: readonly number[],
  alertedBelow: number | null,
): number | null {
  const level = levelBelow(balanceMicroUsd, thresholdsMicroUsd);
  if (level === null) return null;
  return alertedBelow === null || level < alertedBelow ? level : null;
}
