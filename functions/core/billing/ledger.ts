import { and, eq, inArray, sql } from 'drizzle-orm';
import { ledgerEntries, orgBalances } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { InsufficientQuotaError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { LedgerKind } from './kinds.ts';

type Database = ServiceContext['db'];
type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Platform-side accounts; every org has one account, `org:<id>`, whose entries make its balance. */
export const PLATFORM_ACCOUNTS = {
  revenue: 'platform:revenue',
  stripe: 'platform:stripe_clearing',
  adjustments: 'platform:adjustments',
} as const;

export const orgAccount = (orgId: string) => `org:${orgId}`;

/** The two lines of money moving between an org and a platform account; a positive amount credits the org. */
export const orgTransfer = (orgId: string, platformAccount: string, toOrgMicroUsd: number): LedgerLine[] => [
  { orgId, account: orgAccount(orgId), amountMicroUsd: toOrgMicroUsd },
  { orgId: null, account: platformAccount, amountMicroUsd: -toOrgMicroUsd },
];

export interface LedgerLine {
  /** Set for an org's account: its balance moves by `amountMicroUsd`. */
  orgId: string | null;
  account: string;
  amountMicroUsd: number;
}

export interface LedgerPosting {
  kind: LedgerKind;
  /** The same key posts once: a retried webhook or usage report changes nothing the second time. */
  idempotencyKey: string;
  description: string;
  reference?: string | null;
  lines: LedgerLine[];
  /**
   * An org whose balance this posting lowers may not end below this (0: no overdraft); undefined for
   * charges that must be recorded whatever the balance (usage already consumed).
   */
  floorMicroUsd?: number;
}

export interface PostedTransaction {
  transactionId: string;
  duplicate: boolean;
  /** Balances of the orgs involved, after the posting. */
  balances: Record<string, number>;
}

function validate(posting: LedgerPosting) {
  if (posting.lines.length < 2) throw new Error('a ledger transaction needs at least two lines');
  let sum = 0;
  for (const line of posting.lines) {
    if (!Number.isSafeInteger(line.amountMicroUsd) || line.amountMicroUsd === 0) {
      throw new Error(`ledger amounts are non-zero whole micro-dollars, not ${line.amountMicroUsd}`);
    }
    const owned =
      line.orgId === null ? line.account.startsWith('platform:') : line.account === orgAccount(line.orgId);
    if (!owned) throw new Error(`account ${line.account} does not match its org`);
    sum += line.amountMicroUsd;
  }
  if (sum !== 0) throw new Error(`ledger transaction does not balance (sum ${sum})`);
}

/**
 * Posts a balanced transaction, once per idempotency key, inside the caller's database transaction.
 * The balance rows of the orgs involved are locked (in id order, so concurrent postings cannot
 * deadlock) before anything is read, so two debits can never both spend the same money.
 */
export async function postTransaction(tx: Transaction, posting: LedgerPosting): Promise<PostedTransaction> {
  validate(posting);
  const orgIds = [...new Set(posting.lines.flatMap((line) => (line.orgId ? [line.orgId] : [])))].sort();
  if (orgIds.length > 0) {
    await tx
      .insert(orgBalances)
      .values(orgIds.map((orgId) => ({ orgId })))
      .onConflictDoNothing();
  }
  const locked =
    orgIds.length === 0
      ? []
      : await tx
          .select()
          .from(orgBalances)
          .where(inArray(orgBalances.orgId, orgIds))
          .orderBy(orgBalances.orgId)
          .for('update');
  const balances = Object.fromEntries(locked.map((row) => [row.orgId, row.balanceMicroUsd]));

  // Postings that touch no org have no balance row to lock: the key itself is the lock.
  if (orgIds.length === 0)
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${posting.idempotencyKey}))`);
  // Checked under the locks: a concurrent posting of the same key has committed or not, never half.
  const [existing] = await tx
    .select({ transactionId: ledgerEntries.transactionId })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.idempotencyKey, `${posting.idempotencyKey}#0`));
  if (existing) return { transactionId: existing.transactionId, duplicate: true, balances };

  const after = { ...balances };
  for (const line of posting.lines) {
    if (line.orgId) after[line.orgId] = (after[line.orgId] ?? 0) + line.amountMicroUsd;
  }
  if (posting.floorMicroUsd !== undefined) {
    for (const orgId of orgIds) {
      const lowered = (after[orgId] ?? 0) < (balances[orgId] ?? 0);
      if (lowered && (after[orgId] ?? 0) < posting.floorMicroUsd) throw new InsufficientQuotaError();
    }
  }
  const transactionId = newId('ledgerTransaction');
  await tx.insert(ledgerEntries).values(
    posting.lines.map((line, index) => ({
      id: newId('ledgerEntry'),
      transactionId,
      orgId: line.orgId,
      account: line.account,
      kind: posting.kind,
      amountMicroUsd: line.amountMicroUsd,
      idempotencyKey: `${posting.idempotencyKey}#${index}`,
      description: posting.description,
      reference: posting.reference ?? null,
    })),
  );
  for (const orgId of orgIds) {
    await tx
      .update(orgBalances)
      .set({ balanceMicroUsd: after[orgId] ?? 0, updatedAt: sql`now()` })
      .where(eq(orgBalances.orgId, orgId));
  }
  return { transactionId, duplicate: false, balances: after };
}

/** An org's balance as the entries say (the cached row must agree). */
export async function derivedBalance(db: Database, orgId: string): Promise<number> {
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${ledgerEntries.amountMicroUsd}), 0)` })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.orgId, orgId), eq(ledgerEntries.account, orgAccount(orgId))));
  return Number(row?.total ?? 0);
}
