import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ledgerEntries, orgBalances, orgs } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { InsufficientQuotaError } from '../errors.ts';
import { newId } from '../ids.ts';
import {
  derivedBalance,
  type LedgerPosting,
  orgAccount,
  PLATFORM_ACCOUNTS,
  postTransaction,
} from './ledger.ts';

const database = testDatabase();
afterAll(() => database.close());

async function newOrg() {
  const id = newId('org');
  await database.db.insert(orgs).values({ id, name: 'Ledger test', slug: id.toLowerCase() });
  return id;
}

const topUp = (orgId: string, amount: number, key: string): LedgerPosting => ({
  kind: 'top_up',
  idempotencyKey: key,
  description: 'Added funds',
  lines: [
    { orgId, account: orgAccount(orgId), amountMicroUsd: amount },
    { orgId: null, account: PLATFORM_ACCOUNTS.stripe, amountMicroUsd: -amount },
  ],
});

const spend = (orgId: string, amount: number, key: string, floor?: number): LedgerPosting => ({
  kind: 'usage',
  idempotencyKey: key,
  description: 'GPU time',
  lines: [
    { orgId, account: orgAccount(orgId), amountMicroUsd: -amount },
    { orgId: null, account: PLATFORM_ACCOUNTS.revenue, amountMicroUsd: amount },
  ],
  ...(floor === undefined ? {} : { floorMicroUsd: floor }),
});

/** The database's own message, under the driver's "Failed query" wrapper. */
const rootMessage = (error: unknown): string =>
  error instanceof Error ? `${error.message} ${error.cause ? rootMessage(error.cause) : ''}` : String(error);

const post = (posting: LedgerPosting) => database.db.transaction((tx) => postTransaction(tx, posting));

async function cachedBalance(orgId: string) {
  const [row] = await database.db.select().from(orgBalances).where(eq(orgBalances.orgId, orgId));
  return row?.balanceMicroUsd ?? 0;
}

describe('the ledger', () => {
  it('refuses to change or remove an entry, in the database itself', async () => {
    const orgId = await newOrg();
    await post(topUp(orgId, 5_000_000, `immutable-${orgId}`));
    const update = await database.db
      .update(ledgerEntries)
      .set({ amountMicroUsd: 1 })
      .where(eq(ledgerEntries.orgId, orgId))
      .catch(rootMessage);
    expect(update).toMatch(/ledger entries are immutable: UPDATE refused/);
    const remove = await database.db
      .delete(ledgerEntries)
      .where(eq(ledgerEntries.orgId, orgId))
      .catch(rootMessage);
    expect(remove).toMatch(/ledger entries are immutable: DELETE refused/);
    expect(await derivedBalance(database.db, orgId)).toBe(5_000_000);
  });

  it('refuses an unbalanced transaction at commit, even written around the posting code', async () => {
    const orgId = await newOrg();
    const refused = await database.db
      .transaction(async (tx) => {
        await tx.insert(ledgerEntries).values({
          id: newId('ledgerEntry'),
          transactionId: newId('ledgerTransaction'),
          orgId,
          account: orgAccount(orgId),
          kind: 'adjustment',
          amountMicroUsd: 1_000_000,
          idempotencyKey: `free-money-${orgId}`,
          description: 'free money',
        });
      })
      .then(() => 'committed', rootMessage);
    expect(refused).toMatch(/does not balance/);
    expect(await derivedBalance(database.db, orgId)).toBe(0);
  });

  it('lets concurrent debits spend each dollar once: 10 tries of $0.30 from $1.00 → 3 succeed', async () => {
    const orgId = await newOrg();
    await post(topUp(orgId, 1_000_000, `race-top-up-${orgId}`));
    const tries = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => post(spend(orgId, 300_000, `race-${orgId}-${i}`, 0))),
    );
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(3);
    for (const t of tries)
      if (t.status === 'rejected') expect(t.reason).toBeInstanceOf(InsufficientQuotaError);
    expect(await cachedBalance(orgId)).toBe(100_000);
    expect(await derivedBalance(database.db, orgId)).toBe(100_000);
  });

  it('property: under random top-ups, refills, refunds, debits (floored or not), concurrent overdraft attempts and retried keys, every invariant holds after every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            op: fc.constantFrom('top_up', 'refill', 'refund', 'spend', 'spend_floored', 'race'),
            amount: fc.integer({ min: 1, max: 50_000_000 }),
            // Small key space: retries of earlier keys are common.
            key: fc.integer({ min: 0, max: 12 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        async (steps) => {
          const orgId = await newOrg();
          const applied = new Map<number, number>();
          let expected = 0;
          for (const [index, step] of steps.entries()) {
            const key = `${orgId}-${step.key}`;
            if (step.op === 'race') {
              // Four floored debits at once: exactly as many succeed as the balance covers.
              const tries = await Promise.allSettled(
                [0, 1, 2, 3].map((i) => post(spend(orgId, step.amount, `${orgId}-race-${index}-${i}`, 0))),
              );
              const won = tries.filter((t) => t.status === 'fulfilled').length;
              for (const t of tries)
                if (t.status === 'rejected') expect(t.reason).toBeInstanceOf(InsufficientQuotaError);
              expect(won).toBe(Math.max(0, Math.min(4, Math.floor(expected / step.amount))));
              expected -= won * step.amount;
            } else {
              const posting =
                step.op === 'top_up' || step.op === 'refill'
                  ? {
                      ...topUp(orgId, step.amount, key),
                      kind: step.op === 'refill' ? ('auto_refill' as const) : ('top_up' as const),
                    }
                  : step.op === 'refund'
                    ? { ...spend(orgId, step.amount, key), kind: 'refund' as const }
                    : spend(orgId, step.amount, key, step.op === 'spend_floored' ? 0 : undefined);
              const delta = step.op === 'top_up' || step.op === 'refill' ? step.amount : -step.amount;
              const result: unknown = await post(posting).catch((error: unknown) => error);
              if (result instanceof InsufficientQuotaError) {
                expect(expected - step.amount).toBeLessThan(0);
              } else if (result instanceof Error) {
                throw result;
              } else if ((result as { duplicate: boolean }).duplicate) {
                expect(applied.has(step.key)).toBe(true);
              } else {
                expect(applied.has(step.key)).toBe(false);
                applied.set(step.key, delta);
                expected += delta;
              }
            }
            expect(await cachedBalance(orgId)).toBe(expected);
            expect(await derivedBalance(database.db, orgId)).toBe(expected);
          }
          const [{ total } = { total: '1' }] = await database.db
            .select({ total: sql<string>`coalesce(sum(${ledgerEntries.amountMicroUsd}), 0)` })
            .from(ledgerEntries)
            .where(sql`${ledgerEntries.idempotencyKey} like ${`${orgId}-%`}`);
          expect(Number(total)).toBe(0);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
