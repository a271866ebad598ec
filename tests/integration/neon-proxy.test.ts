import { neon } from '@neondatabase/serverless';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { gpuTypes, orgs } from '../../db/schema/index.ts';
import { newId } from '../../functions/core/ids.ts';
import { configureNeonDriver, createDatabase } from '../../functions/lib/db.ts';
import { toServiceError } from '../../functions/lib/http-errors.ts';
import { startTestCloud } from '../harness/cloud.ts';

/**
 * The production Neon driver, unchanged, against the local proxy: HTTP `neon()` for one-shot queries and
 * batches, the WebSocket Pool (through drizzle, as the edge uses it) for interactive transactions.
 */
describe('Neon-compatible proxy', () => {
  let cloud: Awaited<ReturnType<typeof startTestCloud>>;
  let databaseUrl: string;

  beforeAll(async () => {
    cloud = await startTestCloud();
    databaseUrl = cloud.edgeEnv.DATABASE_URL ?? '';
    configureNeonDriver({ proxyUrl: cloud.edgeEnv.NEON_PROXY_URL, webSocketConstructor: WebSocket });
  });
  afterAll(() => cloud.stop());

  it('answers HTTP queries with typed rows, parameters and the seeded catalog', async () => {
    const query = neon(databaseUrl);
    const [sku] = await query`select slug, memory_gb from gpu_types where slug = ${'a100-80gb'}`;
    expect(sku).toEqual({ slug: 'a100-80gb', memory_gb: 80 });
    const [now] = await query`select now() as at, 1.5::numeric as price, true as flag`;
    expect(now?.at).toBeInstanceOf(Date);
    expect(now).toMatchObject({ price: '1.5', flag: true });
  });

  it('runs an HTTP batch in one transaction: one failing statement undoes the others', async () => {
    const query = neon(databaseUrl);
    const slug = `proxy-batch-${Date.now()}`;
    await expect(
      query.transaction([
        query`insert into orgs (id, name, slug) values (${newId('org')}, 'Batch', ${slug})`,
        query`insert into orgs (id, name, slug) values (${newId('org')}, 'Duplicate', ${slug})`,
      ]),
    ).rejects.toMatchObject({ code: '23505', constraint: 'orgs_slug_key' });
    expect(await query`select id from orgs where slug = ${slug}`).toEqual([]);
  });

  it('reports SQL errors with their SQLSTATE over HTTP', async () => {
    const query = neon(databaseUrl);
    await expect(query`select * from no_such_table`).rejects.toMatchObject({ code: '42P01' });
  });

  it('commits and rolls back interactive transactions through drizzle over WebSocket', async () => {
    const { db, close } = createDatabase(databaseUrl);
    try {
      const kept = `proxy-commit-${Date.now()}`;
      const dropped = `proxy-rollback-${Date.now()}`;
      await db.transaction(async (tx) => {
        await tx.insert(orgs).values({ id: newId('org'), name: 'Kept', slug: kept });
      });
      await expect(
        db.transaction(async (tx) => {
          await tx.insert(orgs).values({ id: newId('org'), name: 'Dropped', slug: dropped });
          const [inside] = await tx.select().from(orgs).where(eq(orgs.slug, dropped));
          expect(inside?.name).toBe('Dropped');
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const rows = await db
        .select({ slug: orgs.slug })
        .from(orgs)
        .where(sql`${orgs.slug} in (${kept}, ${dropped})`);
      expect(rows).toEqual([{ slug: kept }]);
      expect((await db.select().from(gpuTypes)).length).toBeGreaterThanOrEqual(6);
    } finally {
      await close();
    }
  });

  it('turns an unreachable database into a 503 naming it, not a crash or a hang', async () => {
    const unreachable = new URL(databaseUrl);
    unreachable.port = '9';
    const { db, close } = createDatabase(unreachable.toString());
    const proxy = new URL(cloud.edgeEnv.NEON_PROXY_URL ?? '');
    try {
      // The proxy forwards every connection to its own target; point the driver at a dead proxy instead.
      configureNeonDriver({ proxyUrl: `http://127.0.0.1:9` });
      const failure = await db
        .select()
        .from(orgs)
        .limit(1)
        .catch((error: unknown) => error);
      expect(toServiceError(failure)).toMatchObject({ code: 'service_unavailable', dependency: 'db' });
      const inTransaction = await db.transaction(async () => {}).catch((error: unknown) => error);
      expect(toServiceError(inTransaction)).toMatchObject({ code: 'service_unavailable', dependency: 'db' });
    } finally {
      configureNeonDriver({ proxyUrl: proxy.origin });
      await close();
    }
  });
});
