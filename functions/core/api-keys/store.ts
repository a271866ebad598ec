import { apiKeys } from '../../../db/schema/index.ts';
import type { Transaction } from '../../lib/db.ts';
import { sha256Hex } from '../auth/secrets.ts';
import { newId } from '../ids.ts';
import { generateApiKey } from './format.ts';

type KeySettings = Pick<
  typeof apiKeys.$inferInsert,
  | 'orgId'
  | 'kind'
  | 'endpointId'
  | 'role'
  | 'rateLimitPerMinute'
  | 'name'
  | 'createdByUserId'
  | 'expiresAt'
  | 'spendCapDailyMicroUsd'
  | 'spendCapMonthlyMicroUsd'
> & { kind: 'account' | 'deployment' };

/** Generates a secret and stores only its hash; the secret is returned for the one time it is shown. */
export async function insertApiKey(tx: Transaction, settings: KeySettings) {
  const generated = generateApiKey(settings.kind);
  const [row] = await tx
    .insert(apiKeys)
    .values({
      ...settings,
      id: newId('apiKey'),
      hash: await sha256Hex(generated.secret),
      prefix: generated.displayPrefix,
      lastFour: generated.lastFour,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return { row, secret: generated.secret };
}
