import { eq } from 'drizzle-orm';
import { apiKeys } from '../../../db/schema/index.ts';
import type { Database, Transaction } from '../../lib/db.ts';
import type { Actor } from '../actor.ts';
import { formatUsd } from '../billing/amounts.ts';
import type { CapRow } from '../billing/caps.ts';
import { ForbiddenError, InvalidRequestError } from '../errors.ts';

/**
 * A spend cap limits what a leaked key can cost, so the key must not undo it through the keys it
 * manages: the caps of the API key making the request bound every key cap it sets. Null when a person
 * signed in makes it (their role decides) or the key has no cap.
 */
export async function capBoundOf(db: Database | Transaction, actor: Actor): Promise<CapRow | null> {
  if (actor.type !== 'api_key') return null;
  const [row] = await db
    .select({
      spendCapDailyMicroUsd: apiKeys.spendCapDailyMicroUsd,
      spendCapMonthlyMicroUsd: apiKeys.spendCapMonthlyMicroUsd,
    })
    .from(apiKeys)
    .where(eq(apiKeys.id, actor.keyId));
  if (!row || (row.spendCapDailyMicroUsd === null && row.spendCapMonthlyMicroUsd === null)) return null;
  return row;
}

type CapChange = { [cap in keyof CapRow]?: number | null | undefined };

const PERIODS = [
  ['spendCapDailyMicroUsd', 'a day'],
  ['spendCapMonthlyMicroUsd', 'a month'],
] as const;

/**
 * The caps a key gets when a key capped at `bound` sets them: each one asked for must be within the
 * bound (no higher, not removed); one not asked for is unchanged, or on a new key (`inherit`) the
 * bound's own, so a capped key never makes an uncapped one. Refused too when an inherited daily cap
 * would exceed the monthly one asked for.
 */
export function capsWithin(bound: CapRow | null, asked: CapChange, inherit: boolean): CapChange {
  if (!bound) return asked;
  const result: CapChange = { ...asked };
  for (const [cap, period] of PERIODS) {
    const limit = bound[cap];
    if (limit === null) continue;
    const value = asked[cap];
    if (value === undefined) {
      if (inherit) result[cap] = limit;
    } else if (value === null || value > limit) {
      throw new ForbiddenError(
        `spend_cap: this API key is capped at ${formatUsd(limit)} ${period}, so a key it creates or changes cannot be capped higher or uncapped. A signed-in member can.`,
        { param: 'spend_cap' },
      );
    }
  }
  const { spendCapDailyMicroUsd: daily, spendCapMonthlyMicroUsd: monthly } = result;
  if (daily != null && monthly != null && daily > monthly) {
    throw new InvalidRequestError(
      `spend_cap: the daily cap (${formatUsd(daily)}, this API key's own) must not exceed the monthly cap.`,
      { param: 'spend_cap' },
    );
  }
  return result;
}
