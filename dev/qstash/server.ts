import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Cron } from 'croner';
import { closeServer, hasBearerToken, listen, readBody, sendJson } from '../http.ts';
import { DeliveryEngine } from './engine.ts';
import type { StoredMessage, StoredSchedule } from './model.ts';
import {
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  PublishError,
  parsePublishOptions,
  validUrl,
} from './options.ts';

export interface QStashOptions {
  port: number;
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
  /** JSON file keeping schedules and undelivered messages across restarts; in memory only when absent. */
  dataFile?: string;
  dedupWindowMs?: number;
}

export interface QStashServer {
  url: string;
  port: number;
  engine: DeliveryEngine;
  close(): Promise<void>;
}

interface Persisted {
  messages: StoredMessage[];
  schedules: StoredSchedule[];
}

const publicMessage = (message: StoredMessage) => ({
  messageId: message.messageId,
  url: message.url,
  method: message.method,
  header: Object.fromEntries(Object.entries(message.header).map(([name, value]) => [name, [value]])),
  body: Buffer.from(message.bodyBase64, 'base64').toString('utf8'),
  maxRetries: message.maxRetries,
  retried: message.retried,
  notBefore: message.notBefore,
  createdAt: message.createdAt,
  callback: message.callback ?? undefined,
  failureCallback: message.failureCallback ?? undefined,
  scheduleId: message.scheduleId ?? undefined,
  state: message.state,
  responseStatus: message.responseStatus ?? undefined,
  error: message.lastError ?? undefined,
});

const publicSchedule = (schedule: StoredSchedule) => ({
  scheduleId: schedule.scheduleId,
  cron: schedule.cron,
  createdAt: schedule.createdAt,
  destination: schedule.destination,
  method: schedule.method,
  header: Object.fromEntries(Object.entries(schedule.header).map(([name, value]) => [name, [value]])),
  body: Buffer.from(schedule.bodyBase64, 'base64').toString('utf8'),
  retries: schedule.retries,
  delay: Math.round(schedule.delayMs / 1000),
  callback: schedule.callback ?? undefined,
  failureCallback: schedule.failureCallback ?? undefined,
  isPaused: schedule.isPaused,
});

/**
 * A stand-in for the QStash v2 HTTP API, so the real `@upstash/qstash` Client publishes to it and the
 * real `Receiver` verifies what it delivers. Publish (with delay, retries, dedup, callbacks), batch,
 * messages, DLQ, events and cron schedules.
 */
export async function startQStash(options: QStashOptions): Promise<QStashServer> {
  let saveTimer: NodeJS.Timeout | undefined;
  const writeState = () => {
    if (!options.dataFile) return;
    const pending = [...engine.messages.values()].filter((m) =>
      ['CREATED', 'ACTIVE', 'RETRY'].includes(m.state),
    );
    const state: Persisted = { messages: pending, schedules: [...engine.schedules.values()] };
    // Write-then-rename: a crash mid-write leaves the previous state, never half a file.
    const temporary = `${options.dataFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(state));
    renameSync(temporary, options.dataFile);
  };
  const save = () => {
    if (!options.dataFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      writeState();
    }, 100);
  };
  const engine = new DeliveryEngine({
    currentSigningKey: options.currentSigningKey,
    dedupWindowMs: options.dedupWindowMs ?? 10 * 60_000,
    onChange: save,
  });
  if (options.dataFile && existsSync(options.dataFile)) {
    let persisted: Persisted;
    try {
      persisted = JSON.parse(readFileSync(options.dataFile, 'utf8')) as Persisted;
    } catch (error) {
      // Never start empty over saved schedules and undelivered messages: say which file is unreadable.
      throw new Error(
        `QStash state in ${options.dataFile} is unreadable (${(error as Error).message}); move it away to start empty`,
      );
    }
    engine.restore(persisted.messages, persisted.schedules);
  }

  /** The destination is everything after the route prefix, as the SDK puts the raw URL in the path. */
  const destinationAfter = (path: string, prefix: string) =>
    validUrl(decodeURIComponent(path.slice(prefix.length)), 'destination');

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const rawPath = request.url ?? '/';
    const path =
      rawPath.startsWith('/v2/publish/') || rawPath.startsWith('/v2/schedules/http')
        ? rawPath
        : (rawPath.split('?')[0] ?? '/');
    const method = request.method ?? 'GET';
    if (method === 'GET' && path === '/v2/keys') {
      if (!hasBearerToken(request, options.token)) return sendJson(response, 401, { error: 'Unauthorized' });
      return sendJson(response, 200, { current: options.currentSigningKey, next: options.nextSigningKey });
    }
    if (!hasBearerToken(request, options.token)) return sendJson(response, 401, { error: 'Unauthorized' });

    if (method === 'POST' && path.startsWith('/v2/publish/')) {
      const destination = destinationAfter(path, '/v2/publish/');
      const body = await readBody(request);
      return sendJson(response, 201, engine.publish(destination, body, parsePublishOptions(request.headers)));
    }
    if (method === 'POST' && path.startsWith('/v2/enqueue/')) {
      const rest = path.slice('/v2/enqueue/'.length);
      const slash = rest.indexOf('/');
      const destination = validUrl(decodeURIComponent(rest.slice(slash + 1)), 'destination');
      const body = await readBody(request);
      return sendJson(response, 201, engine.publish(destination, body, parsePublishOptions(request.headers)));
    }
    if (method === 'POST' && path === '/v2/batch') {
      const items = JSON.parse((await readBody(request)).toString('utf8')) as unknown;
      if (!Array.isArray(items)) throw new PublishError('batch body must be an array');
      const results = items.map(
        (item: { destination?: string; headers?: Record<string, string>; body?: string }) => {
          const destination = validUrl(String(item.destination ?? ''), 'destination');
          const headers = Object.fromEntries(
            Object.entries(item.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
          );
          return engine.publish(destination, Buffer.from(item.body ?? ''), parsePublishOptions(headers));
        },
      );
      return sendJson(response, 201, results);
    }
    const messageMatch = /^\/v2\/messages\/([^/]+)$/.exec(path);
    if (messageMatch?.[1]) {
      const message = engine.messages.get(messageMatch[1]);
      if (method === 'GET') {
        return message
          ? sendJson(response, 200, publicMessage(message))
          : sendJson(response, 404, { error: 'message not found' });
      }
      if (method === 'DELETE') {
        if (!message) return sendJson(response, 404, { error: 'message not found' });
        engine.cancel(message.messageId);
        response.writeHead(202).end();
        return;
      }
    }
    if (method === 'GET' && path === '/v2/dlq') {
      const messages = [...engine.dlq.entries()].map(([dlqId, message]) => ({
        dlqId,
        ...publicMessage(message),
      }));
      return sendJson(response, 200, { messages });
    }
    const dlqMatch = /^\/v2\/dlq\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && dlqMatch?.[1]) {
      return engine.dlq.delete(dlqMatch[1])
        ? sendJson(response, 200, {})
        : sendJson(response, 404, { error: 'not found' });
    }
    if (method === 'GET' && path === '/v2/events') {
      return sendJson(response, 200, { events: [...engine.events].reverse() });
    }
    if (method === 'POST' && path.startsWith('/v2/schedules/')) {
      const destination = destinationAfter(path, '/v2/schedules/');
      const cron = request.headers['upstash-cron'];
      if (typeof cron !== 'string') throw new PublishError('Upstash-Cron header is required');
      try {
        new Cron(cron, { paused: true }).stop();
      } catch {
        throw new PublishError(`invalid cron expression: ${cron}`);
      }
      const publish = parsePublishOptions(request.headers);
      const body = await readBody(request);
      const requestedId = request.headers['upstash-schedule-id'];
      const scheduleId =
        typeof requestedId === 'string' && requestedId
          ? requestedId
          : `scd_${randomUUID().replaceAll('-', '')}`;
      const header = { ...publish.header };
      if (publish.contentType) header['content-type'] = publish.contentType;
      engine.upsertSchedule({
        scheduleId,
        cron,
        destination,
        method: publish.method,
        header,
        bodyBase64: body.toString('base64'),
        retries: publish.retries ?? DEFAULT_RETRIES,
        retryDelay: publish.retryDelay,
        delayMs: publish.delayMs,
        timeoutMs: publish.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        callback: publish.callback,
        failureCallback: publish.failureCallback,
        createdAt: engine.schedules.get(scheduleId)?.createdAt ?? Date.now(),
        isPaused: false,
      });
      return sendJson(response, 201, { scheduleId });
    }
    if (method === 'GET' && path === '/v2/schedules') {
      return sendJson(response, 200, [...engine.schedules.values()].map(publicSchedule));
    }
    const scheduleMatch = /^\/v2\/schedules\/([^/]+)(?:\/(pause|resume))?$/.exec(path);
    if (scheduleMatch?.[1]) {
      const [, scheduleId, action] = scheduleMatch;
      const schedule = engine.schedules.get(scheduleId);
      if (action && (method === 'PATCH' || method === 'POST')) {
        return engine.setPaused(scheduleId, action === 'pause')
          ? sendJson(response, 200, {})
          : sendJson(response, 404, { error: 'schedule not found' });
      }
      if (method === 'GET') {
        return schedule
          ? sendJson(response, 200, publicSchedule(schedule))
          : sendJson(response, 404, { error: 'schedule not found' });
      }
      if (method === 'DELETE') {
        return engine.deleteSchedule(scheduleId)
          ? sendJson(response, 200, {})
          : sendJson(response, 404, { error: 'schedule not found' });
      }
    }
    return sendJson(response, 404, { error: `no route for ${method} ${path}` });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof PublishError) return sendJson(response, 400, { error: error.message });
      if (error instanceof SyntaxError) return sendJson(response, 400, { error: 'invalid JSON body' });
      return sendJson(response, 500, { error: (error as Error).message });
    });
  });
  const port = await listen(server, options.port);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    engine,
    async close() {
      await closeServer(server);
      await engine.close();
      clearTimeout(saveTimer);
      writeState();
    },
  };
}
