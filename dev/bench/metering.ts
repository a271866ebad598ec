import { and, count, eq, like, sum } from 'drizzle-orm';
import { WebSocket } from 'ws';
import { ledgerEntries } from '../../db/schema/index.ts';
import { orgTransfer, PLATFORM_ACCOUNTS, postTransaction } from '../../functions/core/billing/ledger.ts';
import { configureNeonDriver, createDatabase } from '../../functions/lib/db.ts';
import { shuffle } from '../drill/verdict.ts';
import { api } from './account.ts';
import type { RunningStack } from './stacks.ts';

export interface MeteringResult {
  events: number;
  /** Every event is delivered twice, in shuffled order, by `writers` concurrent writers. */
  deliveries: number;
  writers: number;
  seconds: number;
  eventsPerSecond: number;
  deliveriesPerSecond: number;
  /** Deliveries the ledger recognized as already posted (must equal `events`). */
  duplicatesRefused: number;
  /** The organization's ledger entries of this run add up to the events' sum, each event once. */
  ledgerExact: boolean;
}

/**
 * Usage events into the ledger the way metering posts them (`postTransaction`: one transaction per
 * event, the org's balance row locked, keyed for idempotency), over the Neon driver and proxy as the
 * edge uses them. Each event is delivered twice in shuffled order; the ledger must keep one of each.
 */
export async function metering(
  stack: RunningStack,
  token: string,
  options: { events: number; writers: number },
): Promise<MeteringResult> {
  configureNeonDriver({ proxyUrl: stack.neonProxyUrl, webSocketConstructor: WebSocket });
  const database = createDatabase(stack.databaseUrl);
  const org = await api<{ id: string }>(stack, 'GET', '/api/org', undefined, token);
  const run = `bench-usage-${Date.now()}`;
  const events = Array.from({ length: options.events }, (_, index) => ({
    key: `${run}:${index}`,
    microUsd: 1 + (index % 100),
  }));
  const deliveries = shuffle([...events, ...events]);
  let next = 0;
  let duplicatesRefused = 0;
  const started = performance.now();
  let elapsed = 0;
  let ledger = { entries: 0, microUsd: 0 };
  try {
    await Promise.all(
      Array.from({ length: options.writers }, async () => {
        for (let index = next++; index < deliveries.length; index = next++) {
          const event = deliveries[index];
          if (!event) continue;
          const posted = await database.db.transaction((tx) =>
            postTransaction(tx, {
              kind: 'usage',
              idempotencyKey: event.key,
              description: 'bench usage',
              reference: null,
              lines: orgTransfer(org.id, PLATFORM_ACCOUNTS.revenue, -event.microUsd),
            }),
          );
          if (posted.duplicate) duplicatesRefused++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const [row] = await database.db
      .select({ entries: count(), microUsd: sum(ledgerEntries.amountMicroUsd).mapWith(Number) })
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.orgId, org.id), like(ledgerEntries.idempotencyKey, `${run}:%`)));
    ledger = { entries: row?.entries ?? 0, microUsd: row?.microUsd ?? 0 };
    elapsed = seconds;
  } finally {
    await database.close();
  }
  const seconds = elapsed;
  const charged = events.reduce((sum, event) => sum + event.microUsd, 0);
  return {
    events: options.events,
    deliveries: deliveries.length,
    writers: options.writers,
    seconds: Math.round(seconds * 10) / 10,
    eventsPerSecond: Math.round(options.events / seconds),
    deliveriesPerSecond: Math.round(deliveries.length / seconds),
    duplicatesRefused,
    ledgerExact: ledger.entries === options.events && ledger.microUsd === -charged,
  };
}
