import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../../dev/ports.ts';
import { createApp } from '../../app.ts';

const app = createApp();
const env = inject('edgeEnv');

describe('GET /health with a dependency down', () => {
  it('answers 503 naming Redis when its REST endpoint is unreachable', async () => {
    const deadPort = await freePort();
    const response = await app.request(
      '/health',
      {},
      { ...env, UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${deadPort}` },
    );
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body.status).toBe('unavailable');
    expect(body.down).toEqual(['redis']);
    expect(body.checks.redis.status).toBe('down');
    expect(body.checks.db.status).toBe('up');
  });

  it('answers 503 naming the database when Postgres refuses connections', async () => {
    const deadPort = await freePort();
    const response = await app.request(
      '/health',
      {},
      { ...env, NEON_PROXY_URL: `http://127.0.0.1:${deadPort}` },
    );
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body.down).toEqual(['db']);
  });

  it('answers 503 naming QStash when its token is wrong', async () => {
    const response = await app.request('/health', {}, { ...env, QSTASH_TOKEN: 'wrong-token' });
    expect(response.status).toBe(503);
    expect((await response.json()).down).toEqual(['qstash']);
  });
});
