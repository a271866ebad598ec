import { and, eq, inArray, sql } from 'drizzle-orm';
import { orgBalances, replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { authorize } from '../orgs/authorize.ts';
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
      .where(and(eq(replicas.orgId, caller.orgId), inArray(replicas.state, ['provisioning', 'active']))),
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
  transaction_id: string;
  kind: string;
  description: string;
  amount_usd: number;
  balance_after_usd: number;
  reference: string | null;
  created_at: string;
}

/**
 * Every movement on the org's account, newest first, each with the balance it left. `after` (an
 * entry id from the previous page) pages back; the running balance covers the whole history.
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
  }>(sql`
    select * from (
      select id, transaction_id, kind, description, amount_micro_usd, reference, created_at,
             sum(amount_micro_usd) over (order by id) as balance_after
      from ledger_entries where account = ${orgAccount(caller.orgId)}
    ) statement
    where ${page.after ? sql`id < ${page.after}` : sql`true`}
    order by id desc
    limit ${page.limit + 1}`);
  const lines = rows.rows.slice(0, page.limit).map((row) => ({
    id: row.id,
    transaction_id: row.transaction_id,
    kind: row.kind,
    description: row.description,
    amount_usd: usd(Number(row.amount_micro_usd)),
    balance_after_usd: usd(Number(row.balance_after)),
    reference: row.reference,
    created_at: new Date(row.created_at).toISOString(),
  }));
  return { object: 'list', data: lines, has_more: rows.rows.length > page.limit };
}

/** A CSV cell; free text that starts like a formula (=, +, -, @) is defused so a spreadsheet never runs it. */
const csvCell = (value: string | null, freeText = false) => {
  const text = value ?? '';
  const safe = freeText && /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

export function statementCsv(lines: StatementLine[]): string {
  const header = ['date', 'kind', 'description', 'amount_usd', 'balance_usd', 'reference', 'transaction_id'];
  const body = lines.map((line) =>
    [
      csvCell(line.created_at),
      csvCell(line.kind),
      csvCell(line.description, true),
      csvCell(line.amount_usd.toFixed(6)),
      csvCell(line.balance_after_usd.toFixed(6)),
      csvCell(line.reference, true),
      csvCell(line.transaction_id),
    ].join(','),
  );
  return `${[header.join(','), ...body].join('\n')}\n`;
}
