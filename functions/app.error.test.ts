import { describe, expect, inject, it } from 'vitest';
import { createApp } from './app.ts';

const app = createApp();
const env = inject('edgeEnv');

const errorShape = {
  error: {
    message: expect.any(String),
    type: expect.any(String),
    param: null,
    code: expect.any(String),
  },
};

describe('unknown routes', () => {
  for (const path of ['/v1/nope', '/api/nope', '/internal/nope', '/nope']) {
    it(`GET ${path} is a JSON 404 in the OpenAI error shape`, async () => {
      const response = await app.request(path, {}, env);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/json');
      const body = await response.json();
      expect(body).toEqual(errorShape);
      expect(body.error).toMatchObject({ type: 'not_found_error', code: 'not_found' });
      expect(body.error.message).toContain(path);
    });
  }
});

describe('configuration errors', () => {
  it('name the variable and what it should look like', async () => {
    const { DATABASE_URL: _omitted, ...withoutDatabase } = env;
    const response = await app.request(
      '/health',
      {},
      { ...withoutDatabase, UPSTASH_REDIS_REST_URL: 'not a url' },
    );
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body.error.code).toBe('invalid_configuration');
    expect(body.error.message).toContain('DATABASE_URL');
    expect(body.error.message).toContain('UPSTASH_REDIS_REST_URL must be an http(s) URL');
  });

  it('list what the ecs provider still needs, and refuse malformed maps', async () => {
    const response = await app.request(
      '/health',
      {},
      { ...env, COMPUTE_PROVIDER: 'ecs', AWS_REGION: 'us-east-1', ECS_CAPACITY_PROVIDERS: '{"a10g": 5}' },
    );
    const { message } = (await response.json()).error;
    expect(message).toContain('ECS_CAPACITY_PROVIDERS must be a JSON object of strings');
    const missing = await app.request(
      '/health',
      {},
      { ...env, COMPUTE_PROVIDER: 'ecs', AWS_REGION: 'us-east-1' },
    );
    const { message: needs } = (await missing.json()).error;
    expect(needs).toContain('ECS_CLUSTER is required when COMPUTE_PROVIDER=ecs');
    expect(needs).toContain('ECS_SUBNETS is required when COMPUTE_PROVIDER=ecs');
    expect(needs).not.toContain('AWS_REGION is required');
  });

  it('are not spelled out to production callers', async () => {
    const response = await app.request(
      '/health',
      {},
      { ...env, ENVIRONMENT: 'production', DATABASE_URL: 'nope' },
    );
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body.error.message).not.toContain('DATABASE_URL');
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document describing the routes', async () => {
    const response = await app.request('/openapi.json', {}, env);
    expect(response.status).toBe(200);
    const document = await response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('AI Cloud API');
    expect(document.paths['/health'].get.responses).toHaveProperty('503');
  });
});
