import type { Redis } from './redis.ts';

/** The newest lines of an endpoint's workers are kept; older ones fall off. */
const KEEP_LINES = 5000;
const key = (endpointId: string) => `logs:${endpointId}`;

export interface LogLine {
  id: string;
  replica_id: string;
  at: string;
  line: string;
}

export async function appendWorkerLogs(
  redis: Redis,
  endpointId: string,
  replicaId: string,
  lines: { at: string; line: string }[],
) {
  if (lines.length === 0) return;
  const pipeline = redis.pipeline();
  for (const entry of lines) {
    pipeline.xadd(
      key(endpointId),
      '*',
      { replica: replicaId, at: entry.at, line: entry.line },
      { trim: { type: 'MAXLEN', threshold: KEEP_LINES, comparison: '~' } },
    );
  }
  // A deployment nobody runs any more lets its logs go after a week.
  pipeline.expire(key(endpointId), 7 * 86_400);
  await pipeline.exec();
}

/** Lines after `after` (a previous answer's last id, for tailing), oldest first, at most `limit`. */
export async function readWorkerLogs(
  redis: Redis,
  endpointId: string,
  limit: number,
  after?: string,
): Promise<LogLine[]> {
  const entries = after
    ? ((await redis.xrange(key(endpointId), `(${after}`, '+', limit)) as Record<
        string,
        Record<string, unknown>
      >)
    : ((await redis.xrevrange(key(endpointId), '+', '-', limit)) as Record<string, Record<string, unknown>>);
  const lines = Object.entries(entries).map(([id, fields]) => ({
    id,
    replica_id: String(fields.replica ?? ''),
    at: String(fields.at ?? ''),
    line: String(fields.line ?? ''),
  }));
  return lines.sort((a, b) => (a.id < b.id ? -1 : 1));
}
