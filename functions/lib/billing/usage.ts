import { sql } from 'drizzle-orm';
import type { ServiceContext } from '../../context.ts';
import { orgAccount } from '../../core/billing/ledger.ts';
import {
  monthPeriod,
  type UsageRow,
  type UsageService,
  usageReport,
} from '../../core/billing/usage-report.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { authorize } from '../../core/orgs/authorize.ts';

/**
 * Usage analytics for a month (default: this month to date), from the ledger's usage debits: each is
 * a replica's metered time, so its deployment, its service (catalog model or custom image) and its
 * GPU-hours (amount ÷ the replica's hourly price × GPUs per replica) follow from the replica.
 */
export async function readUsage(ctx: ServiceContext, month: string | undefined) {
  const { caller } = authorize(ctx.caller, 'billing.read');
  const now = ctx.clock.now();
  const period = monthPeriod(month, now);
  if (period.start.getTime() > now.getTime()) {
    throw new InvalidRequestError('month is in the future.', { param: 'month' });
  }
  const result = await ctx.db.execute<{
    day: string;
    service: UsageService;
    deployment_id: string | null;
    deployment_name: string | null;
    model: string | null;
    spend: string;
    gpu_hours: string | null;
  }>(sql`
    select to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
           case when en.id is null then 'model_deployments'
                when en.model_id is null then 'custom_pods'
                else 'model_deployments' end as service,
           en.id as deployment_id, en.name as deployment_name, m.name as model,
           -sum(e.amount_micro_usd) as spend,
           sum(-e.amount_micro_usd::float8 / nullif(r.price_per_hour_micro_usd, 0) * coalesce(en.gpu_count, 1)) as gpu_hours
    from ledger_entries e
    left join replicas r on r.id = e.reference
    left join endpoints en on en.id = r.endpoint_id
    left join models m on m.id = en.model_id
    where e.org_id = ${caller.orgId} and e.account = ${orgAccount(caller.orgId)} and e.kind = 'usage'
      and e.created_at >= ${period.start.toISOString()} and e.created_at < ${period.end.toISOString()}
    group by 1, 2, 3, 4, 5`);
  const rows: UsageRow[] = result.rows.map((row) => ({
    day: row.day,
    service: row.service,
    deploymentId: row.deployment_id,
    deploymentName: row.deployment_name,
    model: row.model,
    spendMicroUsd: Number(row.spend),
    gpuHours: Number(row.gpu_hours ?? 0),
  }));
  return usageReport(rows, period);
}
