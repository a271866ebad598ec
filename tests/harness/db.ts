import { WebSocket } from 'ws';
import { endpoints } from '../../db/schema/index.ts';
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
