/** The local compute provider's own API (what the orchestrator's start and stop calls reach). */
export interface ComputeApi {
  url: string;
  token: string;
}

/** A worker process as the local provider reports it. */
export interface LocalReplica {
  replicaId: string;
  endpointId: string;
  pid: number | null;
  status: string;
  /** When the provider received the start call (ISO). */
  startedAt: string | null;
}

/** Every replica the local provider knows, stopped ones included: its own view, not the database's. */
export async function providerReplicas(compute: ComputeApi): Promise<LocalReplica[]> {
  const response = await fetch(`${compute.url}/replicas`, {
    headers: { authorization: `Bearer ${compute.token}` },
  });
  if (!response.ok) throw new Error(`the local compute answered ${response.status}`);
  return ((await response.json()) as { replicas: LocalReplica[] }).replicas;
}

/** The replicas of one endpoint the local provider is running or starting. */
export async function endpointReplicas(compute: ComputeApi, endpointId: string): Promise<LocalReplica[]> {
  return (await providerReplicas(compute)).filter(
    (replica) =>
      replica.endpointId === endpointId && (replica.status === 'pending' || replica.status === 'running'),
  );
}
