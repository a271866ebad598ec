import { and, eq, gt, isNull } from 'drizzle-orm';
import { emailTokens } from '../../../db/schema/index.ts';
import type { Database, Transaction } from '../../lib/db.ts';
import { InvalidRequestError } from '../errors.ts';
import { EMAIL_TOKEN_TTL_SECONDS, type EmailTokenPurpose } from './email-tokens.ts';
import { randomToken, sha256Hex } from './secrets.ts';

/** Creates a one-time link token for `purpose`; returns the secret to put in the email. */
export async function createEmailToken(
  tx: Transaction,
  input: { userId: string; email: string; purpose: EmailTokenPurpose },
  now: Date,
): Promise<string> {
  const token = randomToken(32);
  await tx.insert(emailTokens).values({
    ...input,
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(now.getTime() + EMAIL_TOKEN_TTL_SECONDS[input.purpose] * 1000),
  });
  return token;
}

const INVALID_LINK = 'This link is invalid or has expired.';

/** The one definition of a link that still works: this purpose, never used, not expired. */
const usable = async (token: string, purpose: EmailTokenPurpose, now: Date) =>
  and(
    eq(emailTokens.tokenHash, await sha256Hex(token)),
    eq(emailTokens.purpose, purpose),
    isNull(emailTokens.usedAt),
    gt(emailTokens.expiresAt, now),
  );

/**
 * Fails fast, without using the token, when a link cannot be valid: lets callers skip expensive work
 * (hashing a new password) for made-up tokens. `consumeEmailToken` still decides, atomically. Answers
 * whose link it is.
 */
export async function assertEmailTokenUsable(
  db: Database,
  token: string,
  purpose: EmailTokenPurpose,
  now: Date,
): Promise<{ userId: string }> {
  const [row] = await db
    .select({ userId: emailTokens.userId })
    .from(emailTokens)
    .where(await usable(token, purpose, now));
  if (!row) throw new InvalidRequestError(INVALID_LINK, { param: 'token' });
  return row;
}

/**
 * Marks the token used and returns its row, or fails with one message whatever was wrong (unknown,
 * used, expired, other purpose) so a probe learns nothing. The update is conditional, so two
 * concurrent uses of one link cannot both succeed.
 */
export async function consumeEmailToken(
  tx: Transaction,
  token: string,
  purpose: EmailTokenPurpose,
  now: Date,
) {
  const [row] = await tx
    .update(emailTokens)
    .set({ usedAt: now })
    .where(await usable(token, purpose, now))
    .returning();
  if (!row) throw new InvalidRequestError(INVALID_LINK, { param: 'token' });
  return row;
}

/** Voids the user's unused reset links: once the password is set, an older link must not set it back. */
export async function voidResetLinks(tx: Transaction, userId: string, now: Date): Promise<void> {
  await tx
    .update(emailTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(emailTokens.userId, userId),
        eq(emailTokens.purpose, 'reset_password'),
        isNull(emailTokens.usedAt),
      ),
    );
}
