import { and, eq, inArray } from 'drizzle-orm';
import { WebSocket } from 'ws';
import { endpoints, gpuTypes, replicas } from '../../db/schema/index.ts';
import { newId } from '../../functions/core/ids.ts';
import { configureNeonDriver, createDatabase } from '../../functions/lib/db.ts';
import { env } from './edge.ts';

/** Direct database access for arranging rows the API of a later issue will create, and for asserting rows. */
export function testDatabase() {
  configureNeonDriver({ proxyUrl: env.NEON_PROXY_URL, webSocketConstructor: WebSocket });
  return createDatabase(env.DATABASE_URL ?? '');
}

/** A custom-image endpoint row in `orgId` (the endpoints API arrives with the inference issue). */
export async function insertEndpoint(
  db: ReturnType<typeof testDatabase>['db'],
  orgId: string,
  deleted = false,
) {
  const [row] = await db
    .insert(endpoints)
    .values({
      id: newId('endpoint'),
      orgId,
      name: 'test endpoint',
      image: 'ghcr.io/example/server:1',
      gpuTypes: ['a10g'],
      deletedAt: deleted ? new Date() : null,
    })
    .returning({ id: endpoints.id });
  if (!row) throw new Error('endpoint insert returned nothing');
  return row.id;
}

/**
 * A replica row as metering sees it: up from `activeAt` (an a10g host) until `releasedAt`, or still
 * running when that is null.
 */
export async function insertMeteredReplica(
  db: ReturnType<typeof testDatabase>['db'],
  replica: {
    orgId: string;
    endpointId: string;
    pricePerHourMicroUsd: number;
    activeAt: Date;
    releasedAt: Date | null;
  },
) {
  const [gpu] = await db.select().from(gpuTypes).where(eq(gpuTypes.slug, 'a10g'));
  if (!gpu) throw new Error('catalog not seeded');
  const id = newId('replica');
  await db.insert(replicas).values({
    ...replica,
    id,
    gpuTypeId: gpu.id,
    provider: 'local',
    state: replica.releasedAt ? 'released' : 'active',
    workerTokenHash: id,
  });
  return id;
}

/** An endpoint's replicas that are starting or running (requested, provisioning, active). */
export const liveReplicas = (db: ReturnType<typeof testDatabase>['db'], endpointId: string) =>
  db
    .select()
    .from(replicas)
    .where(
      and(
        eq(replicas.endpointId, endpointId),
        inArray(replicas.state, ['requested', 'provisioning', 'active']),
      ),
    );
