import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { eq } from 'drizzle-orm';
import { gpuTypes, replicas } from '../../db/schema/index.ts';
import { signDelivery } from '../../dev/qstash/signing.ts';
import { randomToken, sha256Hex } from '../../functions/core/auth/secrets.ts';
import { newId } from '../../functions/core/ids.ts';
import type { testDatabase } from './db.ts';
import { app, env } from './edge.ts';
import { payloadsBucket } from './payloads.ts';

const AGENT = fileURLToPath(new URL('../../gpu-workers/agent/main.ts', import.meta.url));

/** The edge over real HTTP (worker agents and the openai SDK need a URL), with a short worker lease. */
export async function startEdgeServer(
  overrides: Record<string, string> = {},
  options: { publicUrlIsSelf?: boolean; payloads?: boolean } = {},
) {
  const bindings: Record<string, unknown> = { ...env, WORKER_LEASE_SECONDS: '3', ...overrides };
  // Audio and image routes need the PAYLOADS bucket; other tests skip starting one.
  if (options.payloads) bindings.PAYLOADS = await payloadsBucket();
  const server = serve({ fetch: (request) => app.fetch(request, bindings), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  // QStash calls the edge back at PUBLIC_URL (webhook deliveries): make it this server.
  if (options.publicUrlIsSelf) bindings.PUBLIC_URL = `http://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections of the SDK and agents would hold the close open.
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

/** A replica row as the orchestrator would create it, with the worker token it hands to the agent. */
export async function createReplica(
  db: ReturnType<typeof testDatabase>['db'],
  orgId: string,
  endpointId: string,
) {
  const [gpu] = await db.select().from(gpuTypes).where(eq(gpuTypes.slug, 'a10g'));
  if (!gpu) throw new Error('catalog not seeded');
  const token = `wt_${randomToken(32)}`;
  const replicaId = newId('replica');
  await db.insert(replicas).values({
    id: replicaId,
    orgId,
    endpointId,
    gpuTypeId: gpu.id,
    provider: 'local',
    state: 'provisioning',
    workerTokenHash: await sha256Hex(token),
    pricePerHourMicroUsd: gpu.securePricePerHourMicroUsd ?? 0,
  });
  return { replicaId, token };
}

export interface RunningAgent {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the real worker agent process with the development engine. */
export function startAgent(options: {
  edgeUrl: string;
  token: string;
  replicaId: string;
  concurrency?: number;
  tokenDelayMs?: number;
  drainTimeoutMs?: number;
}): RunningAgent {
  const child = spawn(process.execPath, [AGENT], {
    env: {
      ...process.env,
      CONTROL_PLANE_URL: options.edgeUrl,
      WORKER_TOKEN: options.token,
      REPLICA_ID: options.replicaId,
      ENGINE: 'vllm',
      MODEL: 'dev',
      DEV_ENGINE: 'true',
      CONCURRENCY: String(options.concurrency ?? 4),
      DEV_TOKEN_DELAY_MS: String(options.tokenDelayMs ?? 5),
      DRAIN_TIMEOUT_MS: String(options.drainTimeoutMs ?? 10_000),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return {
    child,
    output: () => output,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** SIGKILLs the worker-agent process the local compute daemon started for a replica (a crash). */
export function killReplicaProcess(replicaId: string): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`REPLICA_ID=${replicaId}`)) {
        process.kill(Number(entry), 'SIGKILL');
        return true;
      }
    } catch {
      // The process ended meanwhile, or is not ours to read.
    }
  }
  return false;
}

/** Calls an edge's orchestrator as QStash does (the minute schedule, or a nudge), signed with `signingKey`. */
export async function signedReconcile(
  edgeUrl: string,
  body: unknown,
  signingKey = env.QSTASH_CURRENT_SIGNING_KEY ?? '',
) {
  const url = `${edgeUrl}/internal/orchestrator/reconcile`;
  const raw = Buffer.from(JSON.stringify(body));
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'upstash-signature': await signDelivery(signingKey, url, raw),
    },
    body: raw,
  });
}
