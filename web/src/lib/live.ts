import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { InferResponseType } from 'hono/client';
import { useEffect } from 'react';
import { api } from '../api/client.ts';
import type { DeploymentDetail } from './queries.ts';

type Events = InferResponseType<(typeof api.deployments)[':id']['events']['$get'], 200>;
type Logs = InferResponseType<(typeof api.deployments)[':id']['logs']['$get'], 200>;
type ReplicaEvent = Events['data'][number];
type LogLine = Logs['data'][number];

/** Lines kept on the page; older ones scroll away as new ones arrive. */
const KEEP_LOG_LINES = 500;
const MAX_RETRY_MS = 15_000;

export const deploymentKeys = {
  detail: (id: string) => ['deployment', id] as const,
  events: (id: string) => ['events', id] as const,
  logs: (id: string) => ['logs', id] as const,
};

/**
 * Follows a deployment's status stream (SSE over fetch, so the session's org header goes along, which
 * EventSource cannot send) and folds each frame into the cached queries: `runtime` into the detail,
 * `replica` events to the top of the list, `log` lines to the tail. It resumes from what the cache
 * holds, so a dropped connection or the stream's own end loses nothing. `ready` waits for the first
 * reads; `setLive` hears whether frames are flowing (the page polls while they are not).
 */
export function useDeploymentStream(id: string, ready: boolean, setLive: (live: boolean) => void) {
  const client = useQueryClient();
  useEffect(() => {
    if (!ready) return;
    const abort = new AbortController();
    void follow(client, id, abort.signal, setLive);
    return () => {
      abort.abort();
      setLive(false);
    };
  }, [client, id, ready, setLive]);
}

/** The stream refused or ended this caller (key or session revoked, member removed, deployment gone). */
class NotFollowing extends Error {}

async function follow(
  client: QueryClient,
  id: string,
  signal: AbortSignal,
  setLive: (live: boolean) => void,
) {
  let retryMs = 1_000;
  while (!signal.aborted) {
    try {
      await readStream(client, id, signal, () => {
        setLive(true);
        retryMs = 1_000;
      });
    } catch (error) {
      // Following is over for good: reconnecting would only be refused again. The page's own reads say why.
      if (error instanceof NotFollowing) {
        setLive(false);
        return;
      }
      // A network error, or an answer that is not a stream: wait, then resume from the cache.
    }
    setLive(false);
    if (signal.aborted) return;
    await sleep(retryMs, signal);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }
}

async function readStream(client: QueryClient, id: string, signal: AbortSignal, onFrame: () => void) {
  const events = client.getQueryData<Events>(deploymentKeys.events(id));
  const logs = client.getQueryData<Logs>(deploymentKeys.logs(id));
  const lastEvent = events?.data[0]?.id;
  const response = await api.deployments[':id'].events.stream.$get(
    { param: { id }, query: { logs_after: logs?.data.at(-1)?.id ?? '0-0' } },
    { init: { signal }, headers: lastEvent ? { 'last-event-id': lastEvent } : {} },
  );
  if ([401, 403, 404].includes(response.status)) throw new NotFollowing();
  if (!response.ok || !response.body) throw new Error(`status stream answered ${response.status}`);
  const frames = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { done, value: frame } = await frames.read();
    if (done) return;
    if (frame.event === 'error') throw new NotFollowing();
    onFrame();
    const data: unknown = JSON.parse(frame.data);
    if (frame.event === 'runtime') {
      client.setQueryData<DeploymentDetail>(deploymentKeys.detail(id), (detail) =>
        detail ? { ...detail, runtime: data as DeploymentDetail['runtime'] } : detail,
      );
    } else if (frame.event === 'replica') {
      const event = data as ReplicaEvent;
      client.setQueryData<Events>(deploymentKeys.events(id), (list) =>
        list && !list.data.some((known) => known.id === event.id)
          ? { ...list, data: [event, ...list.data] }
          : list,
      );
    } else if (frame.event === 'log') {
      const line = data as LogLine;
      client.setQueryData<Logs>(deploymentKeys.logs(id), (list) =>
        list && !list.data.some((known) => known.id === line.id)
          ? { ...list, data: [...list.data, line].slice(-KEEP_LOG_LINES) }
          : list,
      );
    }
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
