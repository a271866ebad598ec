import { and, eq, sql } from 'drizzle-orm';
import { orgBalances, replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { authorize } from '../orgs/authorize.ts';
import { pageOf } from '../page.ts';
import { orgAccount } from './ledger.ts';

const usd = (micro: number) => micro / 1_000_000;

/** The org's balance, and what its running replicas cost per hour right now. */
export async function readBalance(ctx: ServiceContext) {
  const { caller } = authorize(ctx.caller, 'billing.read');
  const [[balance], [running]] = await Promise.all([
    ctx.db.select().from(orgBalances).where(eq(orgBalances.orgId, caller.orgId)),
    ctx.db
      .select({ perHour: sql<string>`coalesce(sum(${replicas.pricePerHourMicroUsd}), 0)` })
      .from(replicas)
      // Billed from `active` on: a replica still provisioning costs nothing yet.
      .where(and(eq(replicas.orgId, caller.orgId), eq(replicas.state, 'active'))),
  ]);
  const micro = balance?.balanceMicroUsd ?? 0;
  return {
    object: 'balance' as const,
    currency: 'usd' as const,
    balance_usd: usd(micro),
    balance_micro_usd: micro,
    running_cost_per_hour_usd: usd(Number(running?.perHour ?? 0)),
    updated_at: balance?.updatedAt.toISOString() ?? null,
  };
}

export interface StatementLine {
  id: string;
  /** Null for a usage line, which sums many per-minute transactions. */
  transaction_id: string | null;
  kind: string;
  description: string;
  amount_usd: number;
  balance_after_usd: number;
  /** The payment, or for usage the deployment. */
  reference: string | null;
  /** Usage lines: the UTC day they cover. */
  period: string | null;
  created_at: string;
}

/** "4.5 hrs", "12 min", "40 s": how long a deployment ran, as a statement line says it. */
export function formatDuration(hours: number): string {
  const rounded = Number(hours.toFixed(2));
  if (hours >= 1) return `${rounded} ${rounded === 1 ? 'hr' : 'hrs'}`;
  if (hours * 60 >= 1) return `${Math.round(hours * 60)} min`;
  return `${Math.round(hours * 3600)} s`;
}

/**
 * Every movement on the org's account, newest first, each with the balance it left. Usage, metered
 * per replica-minute, is shown as one line per deployment per UTC day ("Llama 3.1 70B (4.5 hrs)");
 * payments, refunds and adjustments one line each. `after` (a line id from the previous page) pages
 * back; the running balance covers the whole history.
 */
export async function listStatement(
  ctx: ServiceContext,
  page: { limit: number; after?: string | undefined },
): Promise<{ object: 'list'; data: StatementLine[]; has_more: boolean }> {
  const { caller } = authorize(ctx.caller, 'billing.read');
  const rows = await ctx.db.execute<{
    id: string;
    transaction_id: string;
    kind: string;
    description: string;
    amount_micro_usd: string;
    balance_after: string;
    reference: string | null;
    created_at: Date | string;
    deployment_id: string | null;
    deployment_name: string | null;
    hours: number | null;
    day: string;
  }>(sql`
    with entries as (
      select e.id, e.transaction_id, e.kind::text as kind, e.description, e.amount_micro_usd, e.reference,
             e.created_at, en.id as deployment_id, en.name as deployment_name,
             sum(e.amount_micro_usd) over (order by e.id) as balance_after,
             -e.amount_micro_usd::float8 / nullif(r.price_per_hour_micro_usd, 0) as hours,
             to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
             case when e.kind = 'usage' and en.id is not null
                  then 'usage:' || en.id || ':' || to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD')
                  else e.id end as line
      from ledger_entries e
      left join replicas r on e.kind = 'usage' and r.id = e.reference
      left join endpoints en on en.id = r.endpoint_id
      where e.org_id = ${caller.orgId} and e.account = ${orgAccount(caller.orgId)}
    ), lines as (
      select max(id) as id, min(transaction_id) as transaction_id, min(kind) as kind,
             min(description) as description, sum(amount_micro_usd) as amount_micro_usd,
             min(reference) as reference, max(created_at) as created_at, min(deployment_id) as deployment_id,
             min(deployment_name) as deployment_name, sum(hours) as hours, min(day) as day, count(*) as entries,
             -- The balance its last entry left, so a payment in the middle of a day's usage reads right.
             (array_agg(balance_after order by id desc))[1] as balance_after
      from entries group by line
    )
    select * from lines
    where ${page.after ? sql`id < ${page.after}` : sql`true`}
    order by id desc
    limit ${page.limit + 1}`);
  return {
    object: 'list',
    ...pageOf(rows.rows, page.limit, (row) => {
      const usage = row.kind === 'usage' && row.deployment_id !== null;
      return {
        id: row.id,
        transaction_id: usage ? null : row.transaction_id,
        kind: row.kind,
        description: usage
          ? `${row.deployment_name} (${formatDuration(Number(row.hours ?? 0))})`
          : row.description,
        amount_usd: usd(Number(row.amount_micro_usd)),
        balance_after_usd: usd(Number(row.balance_after)),
        reference: usage ? row.deployment_id : row.reference,
        period: usage ? row.day : null,
        created_at: new Date(row.created_at).toISOString(),
      };
    }),
  };
}

/** A CSV cell; free text that starts like a formula (=, +, -, @) is defused so a spreadsheet never runs it. */
const csvCell = (value: string | null, freeText = false) => {
  const text = value ?? '';
  const safe = freeText && /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

export function statementCsv(lines: StatementLine[]): string {
  const header = [
    'date',
    'kind',
    'description',
    'amount_usd',
    'balance_usd',
    'reference',
    'period',
    'transaction_id',
  ];
  const body = lines.map((line) =>
    [
      csvCell(line.created_at),
      csvCell(line.kind),
      csvCell(line.description, true),
      csvCell(line.amount_usd.toFixed(6)),
      csvCell(line.balance_after_usd.toFixed(6)),
      csvCell(line.reference, true),
      csvCell(line.period),
      csvCell(line.transaction_id),
    ].join(','),
  );
  return `${[header.join(','), ...body].join('\n')}\n`;
}
