import { microUsdToUsd } from './amounts.ts';

/** What usage is billed for: catalog model deployments, custom images ("pods"), and storage. */
export const USAGE_SERVICES = ['model_deployments', 'custom_pods', 'storage'] as const;
export type UsageService = (typeof USAGE_SERVICES)[number];

/** Usage charges of one deployment on one UTC day. */
export interface UsageRow {
  day: string;
  service: UsageService;
  deploymentId: string | null;
  deploymentName: string | null;
  model: string | null;
  spendMicroUsd: number;
  gpuHours: number;
}

const DAY_MS = 86_400_000;
const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;

interface Totals {
  spendMicroUsd: number;
  gpuHours: number;
}
const add = (into: Totals, row: Totals) => {
  into.spendMicroUsd += row.spendMicroUsd;
  into.gpuHours += row.gpuHours;
};
const view = (totals: Totals) => ({
  spend_usd: microUsdToUsd(totals.spendMicroUsd),
  gpu_hours: round(totals.gpuHours, 4),
  average_cost_per_hour_usd:
    totals.gpuHours > 0 ? round(microUsdToUsd(totals.spendMicroUsd) / totals.gpuHours, 4) : null,
});

/**
 * Spend and GPU-hours for a period: totals, by service, by day (every day of the period, zeros
 * included, so a chart has no gaps) and by deployment (largest first).
 */
export function usageReport(rows: UsageRow[], period: { start: Date; end: Date }) {
  const total: Totals = { spendMicroUsd: 0, gpuHours: 0 };
  const services = new Map<UsageService, Totals>(
    USAGE_SERVICES.map((service) => [service, { spendMicroUsd: 0, gpuHours: 0 }]),
  );
  const days = new Map<string, Totals & { services: Map<UsageService, number> }>();
  for (let at = period.start.getTime(); at < period.end.getTime(); at += DAY_MS) {
    days.set(new Date(at).toISOString().slice(0, 10), { spendMicroUsd: 0, gpuHours: 0, services: new Map() });
  }
  const deployments = new Map<
    string,
    Totals & { name: string | null; model: string | null; service: UsageService }
  >();
  for (const row of rows) {
    add(total, row);
    const service = services.get(row.service);
    if (service) add(service, row);
    const day = days.get(row.day);
    if (day) {
      add(day, row);
      day.services.set(row.service, (day.services.get(row.service) ?? 0) + row.spendMicroUsd);
    }
    if (row.deploymentId) {
      const deployment = deployments.get(row.deploymentId) ?? {
        spendMicroUsd: 0,
        gpuHours: 0,
        name: row.deploymentName,
        model: row.model,
        service: row.service,
      };
      add(deployment, row);
      deployments.set(row.deploymentId, deployment);
    }
  }
  return {
    object: 'usage' as const,
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
    totals: view(total),
    by_service: USAGE_SERVICES.map((service) => ({
      service,
      ...view(services.get(service) ?? { spendMicroUsd: 0, gpuHours: 0 }),
    })),
    by_day: [...days].map(([date, day]) => ({
      date,
      ...view(day),
      by_service: Object.fromEntries(
        USAGE_SERVICES.map((service) => [service, microUsdToUsd(day.services.get(service) ?? 0)]),
      ),
    })),
    by_deployment: [...deployments]
      .sort(([, a], [, b]) => b.spendMicroUsd - a.spendMicroUsd)
      .map(([id, deployment]) => ({
        deployment_id: id,
        name: deployment.name,
        model: deployment.model,
        service: deployment.service,
        ...view(deployment),
      })),
  };
}

/** A calendar month in UTC (`2026-11`), or the current one up to now. */
export function monthPeriod(month: string | undefined, now: Date): { start: Date; end: Date } {
  const [year, monthIndex] = month
    ? month.split('-').map(Number)
    : [now.getUTCFullYear(), now.getUTCMonth() + 1];
  // setUTCFullYear, not Date.UTC: that reads years 0–99 as 1900–1999 (`0001-01` would be 1901).
  const firstOf = (monthOffset: number) => {
    const date = new Date(0);
    date.setUTCFullYear(year ?? 1970, (monthIndex ?? 1) - 1 + monthOffset, 1);
    return date;
  };
  const start = firstOf(0);
  const next = firstOf(1);
  return { start, end: next.getTime() > now.getTime() ? now : next };
}
