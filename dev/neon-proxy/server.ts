import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import pg from 'pg';
import { WebSocketServer } from 'ws';
import { closeServer, listen, readBody, sendJson } from '../http.ts';

export interface NeonProxyOptions {
  /** The real Postgres every connection is forwarded to, whatever host the client names. */
  target: { host: string; port: number };
  port: number;
}

export interface NeonProxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Error fields Neon's HTTP API returns on a failed query (the driver copies them onto its error). */
const PG_ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

const rawText = { getTypeParser: () => (value: string) => value };

interface SqlQuery {
  query: string;
  params?: unknown[];
}

function isSqlQuery(value: unknown): value is SqlQuery {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SqlQuery).query === 'string' &&
    ((value as SqlQuery).params === undefined || Array.isArray((value as SqlQuery).params))
  );
}

/**
 * A Neon-compatible front for a local Postgres, so the edge uses the production driver unchanged:
 * - WebSocket `/v2`: raw Postgres wire protocol relayed to a TCP connection (the driver's Pool/Client);
 * - HTTP `POST /sql`: one query, or a batch run in one transaction (the driver's `neon()` function).
 */
export async function startNeonProxy(options: NeonProxyOptions): Promise<NeonProxy> {
  const pools = new Map<string, pg.Pool>();

  const poolFor = (connectionString: string): pg.Pool => {
    let pool = pools.get(connectionString);
    if (!pool) {
      const url = new URL(connectionString);
      pool = new pg.Pool({
        host: options.target.host,
        port: options.target.port,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: decodeURIComponent(url.pathname.slice(1)),
        max: 4,
      });
      pool.on('error', () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  };

  const runQuery = async (client: pg.PoolClient, { query, params }: SqlQuery) => {
    const result = await client.query({
      text: query,
      values: params ?? [],
      rowMode: 'array',
      types: rawText,
    });
    return {
      command: result.command,
      rowCount: result.rowCount,
      rows: result.rows,
      fields: result.fields,
      rowAsArray: true,
    };
  };

  const handleSql = async (request: IncomingMessage, response: ServerResponse) => {
    const connectionString = request.headers['neon-connection-string'];
    if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString)) {
      return sendJson(response, 400, { message: 'missing or invalid Neon-Connection-String header' });
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(request)).toString('utf8'));
    } catch {
      return sendJson(response, 400, { message: 'request body must be JSON' });
    }
    const batch = typeof body === 'object' && body !== null && 'queries' in body ? body.queries : undefined;
    if (batch !== undefined && !(Array.isArray(batch) && batch.every(isSqlQuery))) {
      return sendJson(response, 400, { message: 'queries must be an array of {query, params}' });
    }
    if (batch === undefined && !isSqlQuery(body)) {
      return sendJson(response, 400, { message: 'body must be {query, params} or {queries: [...]}' });
    }
    let client: pg.PoolClient;
    try {
      client = await poolFor(connectionString).connect();
    } catch (error) {
      return sendJson(response, 502, { message: `cannot reach Postgres: ${(error as Error).message}` });
    }
    try {
      if (batch === undefined) return sendJson(response, 200, await runQuery(client, body as SqlQuery));
      const isolation = request.headers['neon-batch-isolation-level'];
      const readOnly = request.headers['neon-batch-read-only'] === 'true';
      const level =
        typeof isolation === 'string' &&
        /^(ReadUncommitted|ReadCommitted|RepeatableRead|Serializable)$/.test(isolation)
          ? isolation.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()
          : 'READ COMMITTED';
      await client.query(`BEGIN ISOLATION LEVEL ${level}${readOnly ? ' READ ONLY' : ''}`);
      try {
        const results = [];
        for (const query of batch as SqlQuery[]) results.push(await runQuery(client, query));
        await client.query('COMMIT');
        return sendJson(response, 200, { results });
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    } catch (error) {
      const failure = error as Record<string, unknown> & Error;
      const fields = Object.fromEntries(PG_ERROR_FIELDS.map((field) => [field, failure[field]]));
      return sendJson(response, 400, { message: failure.message, ...fields });
    } finally {
      client.release();
    }
  };

  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url?.startsWith('/sql')) {
      handleSql(request, response).catch((error: Error) =>
        sendJson(response, 500, { message: error.message }),
      );
      return;
    }
    sendJson(response, 404, { message: 'not found' });
  });

  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    if (!request.url?.startsWith('/v2')) {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const upstream = connect(options.target.port, options.target.host);
      upstream.setNoDelay(true);
      const pending: Buffer[] = [];
      let connected = false;
      upstream.on('connect', () => {
        connected = true;
        for (const chunk of pending.splice(0)) upstream.write(chunk);
      });
      ws.on('message', (data: Buffer) => (connected ? upstream.write(data) : pending.push(data)));
      upstream.on('data', (data) => ws.send(data));
      upstream.on('close', () => ws.close());
      upstream.on('error', () => ws.terminate());
      ws.on('close', () => upstream.end());
      ws.on('error', () => upstream.destroy());
    });
  });

  const port = await listen(server, options.port);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await closeServer(server);
      await Promise.all([...pools.values()].map((pool) => pool.end()));
    },
  };
}
