import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, ledgerEntries } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, insertMeteredReplica, testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { meterReplicas } from './meter.ts';

const database = testDatabase();
afterAll(() => database.close());
const MINUTE = 60_000;
const now = Math.floor(Date.now() / MINUTE) * MINUTE;
const { ctx } = testContext(database.db, { now: () => new Date(now) });

let token: string;
let orgId: string;
let modelDeployment: string;
let customImage: string;

/** A replica that ran `minutes` and was released just now, at `pricePerHour` micro-dollars. */
async function ran(endpointId: string, minutes: number, pricePerHour: number) {
  return insertMeteredReplica(database.db, {
    orgId,
    endpointId,
    pricePerHourMicroUsd: pricePerHour,
    activeAt: new Date(now - minutes * MINUTE),
    releasedAt: new Date(now),
  });
}

beforeAll(async () => {
  token = (await signUp('usage')).token;
  orgId = (await call('GET', '/api/auth/me', { token })).body.org_id;
  const created = await call('POST', '/api/deployments', {
    token,
    body: { model: 'llama-3.1-8b-instruct', name: 'chat-bot' },
  });
  modelDeployment = created.body.id;
  customImage = await insertEndpoint(database.db, orgId);
  // A two-GPU custom image: an hour of the replica is two GPU-hours.
  await database.db.update(endpoints).set({ gpuCount: 2 }).where(eq(endpoints.id, customImage));
  await ran(modelDeployment, 30, 1_200_000); // $0.60
  await ran(modelDeployment, 90, 1_200_000); // $1.80
  await ran(customImage, 60, 4_000_000); // $4.00, 2 GPU-hours
  await meterReplicas(ctx);
});

describe('usage analytics', () => {
  it('reports spend and GPU-hours by service, by deployment and by day, with the average hourly cost', async () => {
    const usage = await call('GET', '/api/billing/usage', { token });
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toEqual({ spend_usd: 6.4, gpu_hours: 4, average_cost_per_hour_usd: 1.6 });
    expect(usage.body.by_service).toEqual([
      { service: 'model_deployments', spend_usd: 2.4, gpu_hours: 2, average_cost_per_hour_usd: 1.2 },
      { service: 'custom_pods', spend_usd: 4, gpu_hours: 2, average_cost_per_hour_usd: 2 },
      { service: 'storage', spend_usd: 0, gpu_hours: 0, average_cost_per_hour_usd: null },
    ]);
    expect(
      usage.body.by_deployment.map((row: { name: string; spend_usd: number }) => [row.name, row.spend_usd]),
    ).toEqual([
      ['test endpoint', 4],
      ['chat-bot', 2.4],
    ]);
    expect(usage.body.by_deployment[1]).toMatchObject({
      model: 'Llama 3.1 8B Instruct',
      service: 'model_deployments',
    });

    // Each day of the month so far is listed; the charges land on the days they were metered.
    const entries = await database.db.select().from(ledgerEntries).where(eq(ledgerEntries.orgId, orgId));
    const meteredOn = new Set(entries.map((entry) => entry.createdAt.toISOString().slice(0, 10)));
    const days = usage.body.by_day as {
      date: string;
      spend_usd: number;
      by_service: Record<string, number>;
    }[];
    expect(days[0]?.date).toBe(usage.body.period.start.slice(0, 10));
    expect(
      days.filter((day) => meteredOn.has(day.date)).reduce((sum, day) => sum + day.spend_usd, 0),
    ).toBeCloseTo(6.4, 6);
    expect(days.filter((day) => !meteredOn.has(day.date)).every((day) => day.spend_usd === 0)).toBe(true);
  });

  it('shows usage on the statement as one line per deployment per day, with its hours', async () => {
    const statement = await call('GET', '/api/billing/transactions', { token });
    const usage = statement.body.data.filter((line: { kind: string }) => line.kind === 'usage');
    // Every metered minute of a deployment on one day folds into one line (metered just now: one day).
    const byDeployment = new Map<string, { description: string; amount: number }>();
    for (const line of usage) {
      const seen = byDeployment.get(line.reference) ?? { description: line.description, amount: 0 };
      seen.amount += line.amount_usd;
      byDeployment.set(line.reference, seen);
    }
    expect(byDeployment.get(modelDeployment)?.amount).toBeCloseTo(-2.4, 6);
    expect(byDeployment.get(customImage)?.amount).toBeCloseTo(-4, 6);
    if (usage.length === 2) {
      expect(byDeployment.get(modelDeployment)?.description).toBe('chat-bot (2 hrs)');
      expect(
        usage.every((line: { period: string; transaction_id: null }) => line.transaction_id === null),
      ).toBe(true);
    }
    expect(statement.body.data[0].balance_after_usd).toBeCloseTo(-6.4, 6);
  });

  it('reports an earlier month, and refuses malformed or future months', async () => {
    const earlier = await call('GET', '/api/billing/usage?month=2025-01', { token });
    expect(earlier.status).toBe(200);
    expect(earlier.body.totals.spend_usd).toBe(0);
    expect(earlier.body.by_day).toHaveLength(31);
    const malformed = await call('GET', '/api/billing/usage?month=2026-13', { token });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.param).toBe('month');
    const future = await call('GET', '/api/billing/usage?month=2099-01', { token });
    expect(future.status).toBe(400);
  });
});
