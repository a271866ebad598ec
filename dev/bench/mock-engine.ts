import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from './server-process.ts';

/** How the mock model paces its answers: `deltas` content frames, `intervalMs` apart when streaming. */
export interface Pacing {
  deltas: number;
  intervalMs: number;
}

export interface MockEngine {
  url: string;
  /** Changes the pacing for the requests that follow (each scenario sets its own). */
  pace(pacing: Pacing): Promise<void>;
  /** Completions the engine has been asked for since it started (a job run twice counts twice). */
  completions(): Promise<number>;
  close(): Promise<void>;
}

const readBody = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const chunk = (id: string, model: string, delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;

/**
 * An OpenAI-compatible model server that does no work: it answers `/v1/chat/completions` with a fixed
 * number of one-word deltas at a fixed pace (streamed or in one body), and `/v1/models`. What the
 * platform adds to a model's latency is measured against it, called directly the same way.
 */
async function serveMockEngine(initial: Pacing): Promise<Server> {
  let pacing = initial;
  let counter = 0;
  const server: Server = createServer(async (request, response) => {
    if (request.method === 'PUT' && request.url === '/_pace') {
      pacing = JSON.parse(await readBody(request)) as Pacing;
      response.writeHead(204).end();
      return;
    }
    if (request.method === 'GET' && request.url === '/_stats') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ completions: counter }));
      return;
    }
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: [{ id: 'mock', object: 'model' }] }));
      return;
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const body = JSON.parse((await readBody(request)) || '{}') as { stream?: boolean; model?: string };
    const { deltas, intervalMs } = pacing;
    const id = `chatcmpl-mock-${++counter}`;
    const model = body.model ?? 'mock';
    const usage = { prompt_tokens: 8, completion_tokens: deltas, total_tokens: 8 + deltas };
    if (!body.stream) {
      if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs * deltas));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'ok '.repeat(deltas) },
              finish_reason: 'stop',
            },
          ],
          usage,
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.write(chunk(id, model, { role: 'assistant', content: '' }));
    for (let index = 0; index < deltas; index++) {
      if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
      if (response.destroyed) return;
      response.write(chunk(id, model, { content: `t${index} ` }));
    }
    response.write(chunk(id, model, {}, 'stop'));
    response.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [], usage })}\n\n`,
    );
    response.end('data: [DONE]\n\n');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * The mock engine in its own process, as a model server would be: the load tool, the workers and the
 * engine do not share an event loop. `PUT /_pace` sets the pacing.
 */
export async function startMockEngine(initial: Pacing = { deltas: 1, intervalMs: 0 }): Promise<MockEngine> {
  const server = await startServerProcess('mock engine', fileURLToPath(import.meta.url), [
    JSON.stringify(initial),
  ]);
  const { url } = server;
  return {
    url,
    pace: async (pacing) => {
      await fetch(`${url}/_pace`, { method: 'PUT', body: JSON.stringify(pacing) });
    },
    completions: async () =>
      ((await (await fetch(`${url}/_stats`)).json()) as { completions: number }).completions,
    close: server.close,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serveMockEngine(
    JSON.parse(process.argv[2] ?? '{"deltas":1,"intervalMs":0}') as Pacing,
  );
  const { port } = server.address() as AddressInfo;
  console.log(`http://127.0.0.1:${port}`);
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
