import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { RedisBackend } from './backend.ts';
import { createMemoryBackend } from './memory-backend.ts';
import { connectRealBackend } from './real-backend.ts';

export interface SelectedBackend {
  backend: RedisBackend;
  /** What backs the REST endpoint, for the startup banner. */
  description: string;
  stop(): Promise<void>;
}

export function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function waitForReady(url: string, child: ChildProcess): Promise<RedisBackend> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    try {
      return await connectRealBackend(url);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw lastError;
}

/**
 * `REDIS_URL` when set; else a `redis-server` from PATH that we start (persisting under `dataDir` when
 * given); else the in-process stand-in.
 */
export async function selectRedisBackend(options: {
  redisUrl?: string | undefined;
  dataDir: string | null;
  port: number;
  allowMemory?: boolean;
}): Promise<SelectedBackend> {
  if (options.redisUrl) {
    const backend = await connectRealBackend(options.redisUrl);
    return { backend, description: `Redis at REDIS_URL`, stop: async () => {} };
  }
  if (redisServerOnPath()) {
    const args = ['--port', String(options.port), '--bind', '127.0.0.1', '--save', ''];
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      args.push('--dir', options.dataDir, '--appendonly', 'yes');
    } else {
      args.push('--appendonly', 'no');
    }
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    const backend = await waitForReady(`redis://127.0.0.1:${options.port}`, child);
    return {
      backend,
      description: `redis-server on 127.0.0.1:${options.port}`,
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
  if (options.allowMemory === false)
    throw new Error('No Redis available: set REDIS_URL or install redis-server');
  return {
    backend: createMemoryBackend(),
    description: 'in-process Redis stand-in (no redis-server found)',
    stop: async () => {},
  };
}
