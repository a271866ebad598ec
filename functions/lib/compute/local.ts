import type { ComputeProvider, ProviderReplica, ReplicaSpec } from '../../core/compute.ts';
import { guardDependency } from '../guard.ts';

interface WireReplica {
  replicaId: string;
  providerRef: string;
  status: ProviderReplica['status'];
  startedAt: string | null;
  reason: string | null;
}

const fromWire = (replica: WireReplica): ProviderReplica => ({
  ...replica,
  startedAt: replica.startedAt ? new Date(replica.startedAt) : null,
});

/**
 * The `local` provider: the edge (in workerd, which cannot spawn processes) asks the local compute
 * daemon in `dev/compute` to run worker-agent processes on this machine, as it would ask ECS for tasks.
 */
export class LocalComputeProvider implements ComputeProvider {
  readonly name = 'local' as const;
  readonly #baseUrl: string;
  readonly #token: string | undefined;

  constructor(baseUrl: string, token?: string) {
    this.#baseUrl = baseUrl;
    this.#token = token;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    const response = await fetch(new URL(path, this.#baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`local compute ${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async start(spec: ReplicaSpec): Promise<ProviderReplica> {
    return fromWire(await this.#call<WireReplica>('POST', '/replicas', spec));
  }

  async stop(providerRef: string): Promise<void> {
    await this.#call('DELETE', `/replicas/${encodeURIComponent(providerRef)}`);
  }

  async list(): Promise<ProviderReplica[]> {
    const { replicas } = await this.#call<{ replicas: WireReplica[] }>('GET', '/replicas');
    return replicas.map(fromWire);
  }
}

export function createLocalCompute(baseUrl: string, token?: string): ComputeProvider {
  return guardDependency('compute', new LocalComputeProvider(baseUrl, token));
}
