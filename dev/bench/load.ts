import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Answers other than 2xx, and connection errors or timeouts. */
  failures: number;
}

/**
 * Drives `url` with `connections` concurrent clients, each sending the next request as soon as the
 * previous one is answered (closed loop), for `seconds`; latency percentiles come from autocannon's
 * HDR histogram. A short warm-up first, so connection set-up and JIT are not in the figures.
 */
export async function load<Probe = never>(options: {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** Read right before and right after the measured run (not the warm-up), e.g. CPU counters. */
  probe?: () => Probe;
}): Promise<LoadResult & { probes?: [Probe, Probe] }> {
  const run = (duration: number) =>
    autocannon({
      url: options.url,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(options.body),
      connections: options.connections,
      duration,
      timeout: 30,
    });
  await run(1);
  const before = options.probe?.();
  const result = await run(options.seconds);
  const after = options.probe?.();
  return {
    ...(options.probe ? { probes: [before as Probe, after as Probe] as [Probe, Probe] } : {}),
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}
