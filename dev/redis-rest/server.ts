import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, hasBearerToken, listen, readBody, sendJson } from '../http.ts';
import {
  type CommandOutcome,
  type RedisBackend,
  RedisReplyError,
  RedisUnavailableError,
  type Reply,
} from './backend.ts';
import { ScriptRewriter } from './scripts.ts';

export interface RedisRestOptions {
  backend: RedisBackend;
  token: string;
  port: number;
}

export interface RedisRestServer {
  url: string;
  port: number;
  backend: RedisBackend;
  close(): Promise<void>;
}

/** With `Upstash-Encoding: base64` every string in a result is base64, numbers and nulls are not. */
function encode(reply: Reply | unknown, base64: boolean): unknown {
  if (reply === null || reply === undefined || typeof reply === 'number') return reply ?? null;
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString('base64') : reply.toString('utf8');
  if (typeof reply === 'string') return base64 ? Buffer.from(reply, 'utf8').toString('base64') : reply;
  if (Array.isArray(reply)) return reply.map((item) => encode(item, base64));
  return reply;
}

const isCommand = (value: unknown): value is string[] =>
  Array.isArray(value) &&
  value.length > 0 &&
  value.every((part) => ['string', 'number', 'boolean'].includes(typeof part));

const asStrings = (command: unknown[]): string[] => command.map((part) => String(part));

/**
 * The Upstash Redis REST protocol in front of a Redis backend: `POST /` one command, `POST /pipeline`
 * several, `POST /multi-exec` a transaction; bearer-token auth; `{result}` / `{error}` bodies.
 */
export async function startRedisRest(options: RedisRestOptions): Promise<RedisRestServer> {
  const { backend } = options;
  const scripts = new ScriptRewriter(backend.kind === 'memory');
  let syncToken = 0;

  const run = async (command: string[], base64: boolean): Promise<CommandOutcome> => {
    try {
      const reply = await backend.command(scripts.rewriteCommand(command));
      return { result: encode(scripts.rewriteReply(command, reply), base64) as Reply };
    } catch (error) {
      if (error instanceof RedisReplyError) return { error: error.message };
      throw error;
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST') {
      return sendJson(response, 405, { error: 'ERR only POST requests are supported' });
    }
    if (!hasBearerToken(request, options.token)) return sendJson(response, 401, { error: 'Unauthorized' });
    let body: unknown;
    try {
      body = JSON.parse((await readBody(request)).toString('utf8'));
    } catch {
      return sendJson(response, 400, { error: 'ERR failed to parse request body as JSON' });
    }
    const base64 = String(request.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    // Read-your-writes: Upstash hands back a token the client echoes; one server means it is only a counter.
    const headers = { 'upstash-sync-token': String(++syncToken) };
    const path = (request.url ?? '/').split('?')[0];

    if (path === '/') {
      if (!isCommand(body)) return sendJson(response, 400, { error: 'ERR body must be a command array' });
      const outcome = await run(asStrings(body), base64);
      return sendJson(response, 'error' in outcome ? 400 : 200, outcome, headers);
    }
    if (path === '/pipeline' || path === '/multi-exec') {
      if (!Array.isArray(body) || body.length === 0 || !body.every(isCommand)) {
        return sendJson(response, 400, { error: 'ERR body must be a non-empty array of command arrays' });
      }
      const commands = body.map(asStrings);
      if (path === '/pipeline') {
        const outcomes: CommandOutcome[] = [];
        for (const command of commands) outcomes.push(await run(command, base64));
        return sendJson(response, 200, outcomes, headers);
      }
      try {
        const outcomes = await backend.transaction(
          commands.map((command) => scripts.rewriteCommand(command)),
        );
        const encoded = outcomes.map((outcome, index) =>
          'error' in outcome
            ? outcome
            : { result: encode(scripts.rewriteReply(commands[index] ?? [], outcome.result), base64) },
        );
        return sendJson(response, 200, encoded, headers);
      } catch (error) {
        if (error instanceof RedisReplyError) return sendJson(response, 400, { error: error.message });
        throw error;
      }
    }
    return sendJson(response, 404, { error: `ERR unknown path ${path}` });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof RedisUnavailableError ? 503 : 500;
      // No "ERR" prefix: this is the service failing, not the command.
      sendJson(response, status, { error: `Service unavailable: ${(error as Error).message}` });
    });
  });
  const port = await listen(server, options.port);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    backend,
    async close() {
      await closeServer(server);
      await backend.close();
    },
  };
}
