const usdFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const preciseUsd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumFractionDigits: 4,
});

/** "$12.34"; amounts under a cent keep four decimals so per-second costs do not read as $0.00. */
export const usd = (value: number) =>
  value !== 0 && Math.abs(value) < 0.01 ? preciseUsd.format(value) : usdFormat.format(value);

export const dateTime = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const hours = (value: number) => `${value.toLocaleString(undefined, { maximumFractionDigits: 2 })} h`;
