import { type CustomTypesConfig, neon, neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import { DependencyUnavailableError } from '../core/errors.ts';

// No relational schema: every query is built with the query builder, and drizzle would otherwise
// rebuild the schema's relation map for each request's instance.
export type Database = NeonDatabase;
/** What `db.transaction` hands its callback: every write of an operation goes through one. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DriverSettings {
  /** Base URL of a Neon-compatible proxy (development); omitted in production. */
  proxyUrl?: string | undefined;
  /** Node has no global WebSocket before v22; Node callers pass `ws`. Workers have one built in. */
  webSocketConstructor?: unknown;
}

/**
 * The one place that sets the Neon driver's (global) configuration. With a proxy URL it speaks plain
 * ws:// and http:// to the local proxy in `dev/`; without, it uses Neon's TLS defaults.
 */
export function configureNeonDriver(settings: DriverSettings): void {
  if (settings.webSocketConstructor) {
    neonConfig.webSocketConstructor = settings.webSocketConstructor as typeof neonConfig.webSocketConstructor;
  }
  if (!settings.proxyUrl) return;
  const proxy = new URL(settings.proxyUrl);
  neonConfig.wsProxy = (host, port) => `${proxy.host}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = proxy.protocol === 'https:';
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
  neonConfig.fetchEndpoint = () => new URL('/sql', proxy).toString();
}

export interface DatabaseHandle {
  db: Database;
  /** Workers must close the pool at the end of the request (WebSockets cannot outlive it). */
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5_000;

/** What drizzle hands the pool for a statement outside a transaction (pg's query config). */
interface StatementConfig {
  text: string;
  values?: unknown[];
  rowMode?: 'array';
  types?: CustomTypesConfig;
}

/**
 * A Pool per request, as Workers require. Statements outside a transaction go over Neon's HTTP
 * endpoint instead: one round trip each and no connection to open, where a WebSocket connection
 * costs a handshake and Postgres start-up first (29 ms against 1.6 ms per query on loopback). A
 * transaction checks a client out of the pool, which opens the WebSocket only then.
 */
export function createDatabase(databaseUrl: string): DatabaseHandle {
  const pool = new Pool({ connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // Errors on idle clients would otherwise crash the isolate; the next query reports them instead.
  pool.on('error', () => {});
  const connect = pool.connect.bind(pool);
  // Transactions check out a client first; a refused connection there is an outage, not a bug.
  pool.connect = ((callback?: unknown) =>
    callback
      ? connect(callback as Parameters<typeof connect>[0])
      : connect().catch((cause: unknown) => {
          throw new DependencyUnavailableError('db', { cause });
        })) as typeof pool.connect;
  const http = neon(databaseUrl, { fullResults: true });
  pool.query = ((config: string | StatementConfig, values?: unknown[]) => {
    const statement = typeof config === 'string' ? { text: config } : config;
    // Errors keep their SQLSTATE; one without (unreachable database) is mapped to 503 by toServiceError.
    return http.query(statement.text, values ?? statement.values ?? [], {
      arrayMode: statement.rowMode === 'array',
      fullResults: true,
      ...(statement.types ? { types: statement.types } : {}),
    });
  }) as unknown as typeof pool.query;
  return { db: drizzle({ client: pool }), close: () => pool.end() };
}

/** Statements built once per isolate, each run over Neon's HTTP endpoint with a request's values. */
export interface PreparedReads {
  /** The query `build` makes (with `sql.placeholder`s), prepared as `name` on its first use and kept. */
  statement<T>(name: string, build: (db: Database) => { prepare(name: string): T }): T;
}

const preparedReadsByUrl = new Map<string, PreparedReads>();

/**
 * For the hottest reads of the request path: drizzle's query builder costs about 0.3 ms of CPU for a
 * query of several joins, every time it builds one. A statement prepared here is built to SQL once;
 * executing it fills in the placeholders and goes over HTTP, so the Pool beneath never opens a
 * WebSocket and the handle may outlive the request that made it. Reads only: a transaction needs
 * the request's own `db`.
 */
export function preparedReads(databaseUrl: string): PreparedReads {
  let reads = preparedReadsByUrl.get(databaseUrl);
  if (!reads) {
    const { db } = createDatabase(databaseUrl);
    const statements = new Map<string, unknown>();
    reads = {
      statement<T>(name: string, build: (db: Database) => { prepare(name: string): T }): T {
        if (!statements.has(name)) statements.set(name, build(db).prepare(name));
        return statements.get(name) as T;
      },
    };
    preparedReadsByUrl.set(databaseUrl, reads);
  }
  return reads;
}
