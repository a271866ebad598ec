/** What GPU time costs at a per-hour price, in integer micro-dollars (the ledger's unit). */
export function costMicroUsd(gpuSeconds: number, pricePerHourMicroUsd: number): number {
  return Math.round((gpuSeconds * pricePerHourMicroUsd) / 3600);
}
