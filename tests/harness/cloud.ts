import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../dev/cloud.ts';
import { freePort } from '../../dev/ports.ts';

/** A free port for every service of the local cloud. */
export async function freeCloudPorts(): Promise<LocalCloudOptions['ports']> {
  return {
    postgres: await freePort(),
    neonProxy: await freePort(),
    redisRest: await freePort(),
    qstash: await freePort(),
    compute: await freePort(),
    mail: await freePort(),
    stripe: await freePort(),
    redis: await freePort(),
  };
}

/**
 * The local cloud on free ports with throw-away data, as the tests use it. Postgres is DATABASE_URL's
 * server when set, otherwise embedded; Redis is REDIS_URL or a spawned redis-server (required on CI).
 */
export async function startTestCloud(
  edgeUrl = 'http://127.0.0.1:9',
): Promise<LocalCloud & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aicloud-test-'));
  const ports = await freeCloudPorts();
  const cloud = await startLocalCloud({
    dataDir,
    edgeUrl,
    databaseUrl: process.env.TEST_DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    ports,
    allowMemoryRedis: process.env.CI !== 'true',
    // Route tests call the app in-process: nothing listens at the placeholder edge address.
    deliverStripeEvents: edgeUrl !== 'http://127.0.0.1:9',
  });
  return {
    ...cloud,
    dataDir,
    async stop() {
      await cloud.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
