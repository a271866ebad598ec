/**
 * Money at the edges of the platform: Stripe counts cents, the ledger micro-dollars (so a second of a
 * $1.21/hr GPU is a whole number). Only US dollars are accepted, as every price in the catalog is.
 */
export const SUPPORTED_CURRENCIES = ['usd'] as const;
export type Currency = (typeof SUPPORTED_CURRENCIES)[number];

/** The Add Funds buttons; any other whole-cent amount within the bounds is a custom amount. */
export const ADD_FUNDS_PRESETS_CENTS = [2_500, 5_000, 10_000] as const;
export const MIN_TOP_UP_CENTS = 1_000;
export const MAX_TOP_UP_CENTS = 1_000_000;

/** Auto-refill: add between $10 and $5,000 when the balance drops below $0–$5,000. */
export const MIN_REFILL_CENTS = 1_000;
export const MAX_REFILL_CENTS = 500_000;
export const MAX_REFILL_THRESHOLD_CENTS = 500_000;

/** An org's billing settings until it changes them (the billing_accounts column defaults). */
export const DEFAULT_BILLING_SETTINGS = {
  autoRefillEnabled: false,
  autoRefillThresholdMicroUsd: 10_000_000,
  autoRefillAmountMicroUsd: 50_000_000,
  alertThresholdsMicroUsd: [10_000_000, 0],
};

/** At most one automatic charge per hour, so a fast-draining endpoint cannot loop on the card. */
export const AUTO_REFILL_INTERVAL_MS = 3_600_000;

export const MICRO_USD_PER_CENT = 10_000;
export const centsToMicroUsd = (cents: number) => cents * MICRO_USD_PER_CENT;
/** Whole cents, rounded down: a display or a charge never claims money that is not there. */
export const microUsdToCents = (microUsd: number) => Math.floor(microUsd / MICRO_USD_PER_CENT);
export const microUsdToUsd = (microUsd: number) => microUsd / 1_000_000;

/** "$12.34", "-$0.05": for messages and emails. */
export const formatUsd = (microUsd: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(microUsd / 1_000_000);
