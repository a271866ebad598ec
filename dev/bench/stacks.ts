import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from '../../functions/app.ts';
import { startLocalCloud } from '../cloud.ts';
import { freePort } from '../ports.ts';
import { devStackEnv, startDevStack, stopDevStack } from '../stack.ts';
import type { BenchStack } from './account.ts';

export type EdgeRuntime = 'node' | 'workerd';

export interface RunningStack extends BenchStack {
  runtime: EdgeRuntime;
  /** The settings the edge was given (service URLs and their credentials). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The local cloud with the edge app served by Node (@hono/node-server): the same app, services and
 * workers as `npm run dev`, without wrangler dev's own per-request cost, which on its own (a
 * hello-world worker) exceeds what is being measured. Deferred work runs after the response, as
 * waitUntil does in workerd.
 */
async function startNodeStack(engineUrl: string): Promise<RunningStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aicloud-bench-'));
  const port = await freePort();
  const edge = `http://127.0.0.1:${port}`;
  const cloud = await startLocalCloud({
    dataDir,
    edgeUrl: edge,
    engineUrl,
    ports: {
      postgres: await freePort(),
      neonProxy: 0,
      redisRest: 0,
      qstash: 0,
      compute: 0,
      mail: 0,
      stripe: 0,
      redis: await freePort(),
    },
  });
  const app = createApp();
  const bindings = { ...cloud.edgeEnv, LOG_LEVEL: 'warn' };
  const executionCtx = {
    waitUntil: (task: Promise<unknown>) => void task.catch(() => {}),
    passThroughOnException: () => {},
    props: {},
  };
  const server = serve({
    fetch: (request) => app.fetch(request, bindings, executionCtx),
    port,
    hostname: '127.0.0.1',
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  if ((server.address() as AddressInfo).port !== port) throw new Error('the edge did not get its port');
  return {
    runtime: 'node',
    env: bindings,
    edge,
    mailOutbox: cloud.mailOutboxUrl,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await cloud.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `npm run dev` itself: the edge in workerd under wrangler dev. */
async function startWorkerdStack(engineUrl: string): Promise<RunningStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aicloud-bench-'));
  const stack = await devStackEnv(dataDir);
  const running = startDevStack({ ...stack.env, ENGINE_URL: engineUrl, LOG_LEVEL: 'warn' });
  await running.ready;
  return {
    runtime: 'workerd',
    env: {},
    edge: stack.edge,
    mailOutbox: stack.mailOutbox,
    stop: async () => {
      await stopDevStack(running.child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const startStack = (runtime: EdgeRuntime, engineUrl: string) =>
  runtime === 'node' ? startNodeStack(engineUrl) : startWorkerdStack(engineUrl);
