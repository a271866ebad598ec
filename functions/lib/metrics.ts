import type { Redis } from './redis.ts';

/** Per-minute buckets are kept a little over a day: enough for the dashboard's 24-hour charts. */
export const METRICS_RETAIN_SECONDS = 25 * 3600;
/** Latency samples kept per minute bucket (the newest). */
export const MAX_LATENCY_SAMPLES = 1000;

const minuteOf = (ms: number) => Math.floor(ms / 60_000);
const bucket = (endpointId: string, minute: number) => `metrics:${endpointId}:${minute}`;
const latencyList = (bucketKey: string) => `${bucketKey}:latency`;

/**
 * The keys a job that ends at `nowMs` is counted in: the endpoint's minute bucket (a hash of
 * requests, failures, gpu_ms) and its latency samples. The queue's finish script writes them, in the
 * same step that ends the job, so each job counts once however often its end is reported.
 */
export function metricsKeysAt(endpointId: string, nowMs: number) {
  const counts = bucket(endpointId, minuteOf(nowMs));
  return { counts, latency: latencyList(counts) };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? null
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null);

/** Requests, failures, latency percentiles and GPU time over the last `windowMinutes`, and per minute. */
export async function readMetrics(redis: Redis, endpointId: string, windowMinutes: number, nowMs: number) {
  const last = minuteOf(nowMs);
  const minutes = Array.from({ length: windowMinutes }, (_, i) => last - windowMinutes + 1 + i);
  const pipeline = redis.pipeline();
  for (const minute of minutes) {
    pipeline.hgetall(bucket(endpointId, minute));
    pipeline.lrange(latencyList(bucket(endpointId, minute)), 0, -1);
  }
  const replies = await pipeline.exec<unknown[]>();
  const perMinute: {
    minute: string;
    requests: number;
    failures: number;
    gpu_seconds: number;
    latency_p50_ms: number | null;
    latency_p99_ms: number | null;
  }[] = [];
  const latencies: number[] = [];
  minutes.forEach((minute, index) => {
    const counts = (replies[index * 2] ?? {}) as Record<string, unknown> | null;
    const samples = ((replies[index * 2 + 1] ?? []) as unknown[]).map(Number).sort((a, b) => a - b);
    latencies.push(...samples);
    perMinute.push({
      minute: new Date(minute * 60_000).toISOString(),
      requests: Number(counts?.requests ?? 0),
      failures: Number(counts?.failures ?? 0),
      gpu_seconds: Number(counts?.gpu_ms ?? 0) / 1000,
      latency_p50_ms: percentile(samples, 50),
      latency_p99_ms: percentile(samples, 99),
    });
  });
  latencies.sort((a, b) => a - b);
  const sum = (field: 'requests' | 'failures' | 'gpu_seconds') =>
    perMinute.reduce((total, row) => total + row[field], 0);
  return {
    window_minutes: windowMinutes,
    requests: sum('requests'),
    failures: sum('failures'),
    gpu_seconds: sum('gpu_seconds'),
    latency_ms: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
    },
    per_minute: perMinute,
  };
}
