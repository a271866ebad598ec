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

/** A dollar amount typed in a form, as the API's whole cents. */
export const dollarsToCents = (dollars: number) => Math.round(dollars * 100);

/** An optional dollar field of a form: its cents, or null when left empty (no cap). */
export const optionalCents = (form: FormData, name: string) =>
  form.get(name) === '' ? null : dollarsToCents(Number(form.get(name)));
