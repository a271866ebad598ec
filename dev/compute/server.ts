import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type ProviderReplica, type ReplicaSpec, replicaSpecSchema } from '../../functions/core/compute.ts';
import { closeServer, hasBearerToken, listen, readBody, sendJson } from '../http.ts';

export interface WorkerLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface LocalComputeOptions {
  port: number;
  token?: string;
  /** How a replica becomes a process: the worker agent with the replica's engine and token. */
  launch(spec: ReplicaSpec): WorkerLaunch;
  /** Time between SIGTERM and SIGKILL when stopping a replica. */
  stopGraceMs?: number;
  onOutput?: (replicaId: string, line: string) => void;
  /**
   * A replica's process ended without being asked to (crash, kill): the provider's state-change
   * event, as ECS sends one to EventBridge, so the orchestrator can replace it at once.
   */
  onEnded?: (replicaId: string, reason: string) => void;
}

export interface LocalCompute {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface LocalReplica {
  spec: ReplicaSpec;
  child: ChildProcess;
  state: ProviderReplica;
  stopping: boolean;
}

/**
 * The `local` compute backend: runs each replica as a worker-agent process on this machine and reports
 * it dead when it exits, as ECS reports a stopped task.
 */
export async function startLocalCompute(options: LocalComputeOptions): Promise<LocalCompute> {
  const replicas = new Map<string, LocalReplica>();
  const grace = options.stopGraceMs ?? 5_000;

  const start = (spec: ReplicaSpec): ProviderReplica => {
    const existing = replicas.get(spec.replicaId);
    if (existing) return existing.state;
    const launch = options.launch(spec);
    const child = spawn(launch.command, launch.args, {
      env: { ...process.env, ...launch.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const replica: LocalReplica = {
      spec,
      child,
      stopping: false,
      state: {
        replicaId: spec.replicaId,
        providerRef: `local-${spec.replicaId}`,
        status: 'pending',
        startedAt: new Date(),
        reason: null,
      },
    };
    replicas.set(spec.replicaId, replica);
    child.once('spawn', () => {
      replica.state.status = 'running';
    });
    child.once('error', (error) => {
      replica.state = { ...replica.state, status: 'failed', reason: error.message };
    });
    child.once('exit', (code, signal) => {
      const clean = replica.stopping || code === 0;
      const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
      replica.state = { ...replica.state, status: clean ? 'stopped' : 'failed', reason };
      if (!replica.stopping) options.onEnded?.(spec.replicaId, reason);
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line) options.onOutput?.(spec.replicaId, line);
      });
    }
    return replica.state;
  };

  const stop = (replica: LocalReplica): Promise<void> =>
    new Promise((resolve) => {
      if (replica.child.exitCode !== null || replica.child.signalCode !== null) return resolve();
      replica.stopping = true;
      replica.state.status = 'stopping';
      const kill = setTimeout(() => replica.child.kill('SIGKILL'), grace);
      replica.child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      replica.child.kill('SIGTERM');
    });

  const byRef = (providerRef: string) =>
    [...replicas.values()].find((replica) => replica.state.providerRef === providerRef);

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (options.token && !hasBearerToken(request, options.token)) {
      return sendJson(response, 401, { error: 'Unauthorized' });
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method === 'GET' && path === '/replicas') {
      // Beside the provider's fields, the endpoint and process id: drills find and kill workers by them.
      const listed = [...replicas.values()].map((replica) => ({
        ...replica.state,
        endpointId: replica.spec.endpointId,
        pid: replica.child.pid ?? null,
      }));
      return sendJson(response, 200, { replicas: listed });
    }
    if (request.method === 'POST' && path === '/replicas') {
      let body: unknown;
      try {
        body = JSON.parse((await readBody(request)).toString('utf8'));
      } catch {
        return sendJson(response, 400, { error: 'body must be JSON' });
      }
      const spec = replicaSpecSchema.safeParse(body);
      if (!spec.success) {
        const fields = spec.error.issues.map((issue) => issue.path.join('.')).join(', ');
        return sendJson(response, 400, { error: `invalid replica spec: check ${fields}` });
      }
      return sendJson(response, 201, start(spec.data));
    }
    const match = /^\/replicas\/([^/]+)$/.exec(path);
    if (request.method === 'DELETE' && match?.[1]) {
      const replica = byRef(decodeURIComponent(match[1]));
      if (replica) await stop(replica);
      return sendJson(response, 200, { stopped: true });
    }
    return sendJson(response, 404, { error: 'not found' });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => sendJson(response, 500, { error: error.message }));
  });
  const port = await listen(server, options.port);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      await Promise.all([...replicas.values()].map(stop));
      await closeServer(server);
    },
  };
}
