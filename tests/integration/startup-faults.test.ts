import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startLocalCloud } from '../../dev/cloud.ts';
import { freePort } from '../../dev/ports.ts';
import { freeCloudPorts } from '../harness/cloud.ts';

/** A dependency that is down when the local cloud starts stops it with a message naming it. */
describe('local cloud start-up with a dependency down', () => {
  it('names DATABASE_URL and its address when Postgres is unreachable', async () => {
    const closedPort = await freePort();
    await expect(
      startLocalCloud({
        dataDir: null,
        edgeUrl: 'http://127.0.0.1:9',
        databaseUrl: `postgres://app:secret@127.0.0.1:${closedPort}/aicloud`,
        ports: await freeCloudPorts(),
      }),
    ).rejects.toThrow(`Cannot reach Postgres at DATABASE_URL (127.0.0.1:${closedPort})`);
  });

  it('names REDIS_URL when Redis is unreachable, and frees what it had started', async () => {
    const closedPort = await freePort();
    const taken = await freeCloudPorts();
    await expect(
      startLocalCloud({
        dataDir: null,
        edgeUrl: 'http://127.0.0.1:9',
        databaseUrl: process.env.TEST_DATABASE_URL,
        redisUrl: `redis://127.0.0.1:${closedPort}`,
        ports: taken,
      }),
    ).rejects.toThrow(`Cannot connect to Redis at redis://127.0.0.1:${closedPort}`);
    // Everything started before the failure was stopped: the same ports start a full cloud now.
    const cloud = await startLocalCloud({
      dataDir: null,
      edgeUrl: 'http://127.0.0.1:9',
      databaseUrl: process.env.TEST_DATABASE_URL,
      ports: taken,
    });
    await cloud.stop();
  });

  it('leaves the exit code of the process it runs in alone', async () => {
    // A process that ran the cloud and then failed must still exit non-zero (a test run, a script).
    const script = `
      import { startLocalCloud } from ${JSON.stringify(new URL('../../dev/cloud.ts', import.meta.url).href)};
      const ports = ${JSON.stringify(await freeCloudPorts())};
      const cloud = await startLocalCloud({ dataDir: null, edgeUrl: 'http://127.0.0.1:9', ports });
      await cloud.stop();
      process.exitCode = 3;
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(3);
  });
});
