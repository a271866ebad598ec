import { describe, expect, inject, it } from 'vitest';
import { createApp } from '../../app.ts';

const app = createApp();
const env = inject('edgeEnv');

describe('GET /health', () => {
  it('reports every dependency up with its latency', async () => {
    const response = await app.request('/health', {}, env);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const body = await response.json();
    expect(body.status).toBe('ok');
    expect(body.down).toEqual([]);
    for (const name of ['db', 'redis', 'qstash']) {
      expect(body.checks[name].status).toBe('up');
      expect(body.checks[name].latency_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('echoes a caller-supplied request id', async () => {
    const response = await app.request('/health', { headers: { 'x-request-id': 'trace-123' } }, env);
    expect(response.headers.get('x-request-id')).toBe('trace-123');
  });
});
