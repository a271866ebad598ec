import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './ports.ts';

/** The settings of a `npm run dev` on free ports with its data in `dataDir`. */
export async function devStackEnv(dataDir: string) {
  const ports = {
    edge: await freePort(),
    mail: await freePort(),
    postgres: await freePort(),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: '',
    REDIS_URL: '',
    DATA_DIR: dataDir,
    EDGE_PORT: String(ports.edge),
    POSTGRES_PORT: String(ports.postgres),
    NEON_PROXY_PORT: String(await freePort()),
    REDIS_REST_PORT: String(await freePort()),
    REDIS_PORT: String(await freePort()),
    QSTASH_PORT: String(await freePort()),
    COMPUTE_PORT: String(await freePort()),
    MAIL_PORT: String(ports.mail),
    STRIPE_PORT: String(await freePort()),
  };
  return {
    env,
    ports,
    edge: `http://127.0.0.1:${ports.edge}`,
    mailOutbox: `http://127.0.0.1:${ports.mail}`,
  };
}

/**
 * `node dev/main.ts` as a developer runs it; `ready` resolves once it says so. It runs in its own
 * process group, so a stop that fails can still take down everything it started.
 */
export function startDevStack(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['dev/main.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('Press Ctrl-C to stop.')) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`npm run dev exited with ${code}:\n${output}`));
    });
  });
  return { child, ready, output: () => output };
}

/**
 * Ctrl-C, as a developer stops it; resolves with the exit code. If it has not stopped within a
 * minute its whole process group is killed (and the code is null), so no test leaves it running.
 */
export const stopDevStack = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const overdue = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(overdue);
      resolve(code);
    });
    child.kill('SIGINT');
  });
