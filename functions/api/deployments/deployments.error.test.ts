import { describe, expect, it } from 'vitest';
import { call, signUp } from '../../../tests/harness/edge.ts';

describe('deployments with bad input', () => {
  it('names the offending field and creates nothing', async () => {
    const owner = await signUp('deploy-bad');
    const cases: [unknown, string][] = [
      [{}, 'model'],
      [{ model: 'llama-3.1-8b-instruct', image: 'nginx:1' }, 'model'],
      [{ model: 'no-such-model' }, 'model'],
      [{ model: 'Llama 3' }, 'model'],
      [{ image: 'ghcr.io/acme/server:1' }, 'gpu_types'],
      [{ image: 'not a valid image!', gpu_types: ['a10g'] }, 'image'],
      [{ model: 'llama-3.1-8b-instruct', gpu_types: ['b200'] }, 'gpu_types'],
      [{ model: 'llama-3.1-8b-instruct', gpu_types: ['a10g', 'a10g'] }, 'gpu_types'],
      [{ model: 'llama-3.1-8b-instruct', gpu_types: [] }, 'gpu_types'],
      [{ model: 'llama-3.1-70b-instruct', gpu_types: ['rtx-4090'], gpu_count: 1 }, 'gpu_types'],
      [{ model: 'llama-3.1-8b-instruct', min_replicas: 3, max_replicas: 2 }, 'max_replicas'],
      [{ model: 'llama-3.1-8b-instruct', min_replicas: -1 }, 'min_replicas'],
      [{ model: 'llama-3.1-8b-instruct', max_replicas: 1000 }, 'max_replicas'],
      [{ model: 'llama-3.1-8b-instruct', idle_timeout_seconds: 1 }, 'idle_timeout_seconds'],
      [{ model: 'llama-3.1-8b-instruct', concurrency_per_replica: 0 }, 'concurrency_per_replica'],
      [{ model: 'llama-3.1-8b-instruct', env: { 'lower-case': 'x' } }, 'env'],
      [{ model: 'llama-3.1-8b-instruct', env: { WORKER_TOKEN: 'x' } }, 'env'],
      [{ model: 'llama-3.1-8b-instruct', env: { BIG: 'x'.repeat(5000) } }, 'env'],
      // The platform sets these for the worker; a deployment's own would be silently replaced.
      [{ model: 'llama-3.1-8b-instruct', env: { CONCURRENCY: '4' } }, 'env'],
      [{ model: 'llama-3.1-8b-instruct', env: { GPU_COUNT: '2' } }, 'env'],
      // Each value fits, but together they are more than a container's start request carries.
      [{ model: 'llama-3.1-8b-instruct', env: { A: 'x'.repeat(4000), B: 'x'.repeat(4000) } }, 'env'],
      [{ model: 'llama-3.1-8b-instruct', replicas: 2 }, ''],
    ];
    for (const [body, param] of cases) {
      const response = await call('POST', '/api/deployments', { token: owner.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.type).toBe('invalid_request_error');
      if (param)
        expect(response.body.error.param ?? '', JSON.stringify(body)).toMatch(new RegExp(`^${param}`));
    }
    expect((await call('GET', '/api/deployments', { token: owner.token })).body.data).toEqual([]);
    expect((await call('GET', '/api/auth/api-keys', { token: owner.token })).body.data).toEqual([]);
  });

  it('refuses knob changes that break the bounds, leaving the deployment as it was', async () => {
    const owner = await signUp('deploy-update');
    const { id } = (
      await call('POST', '/api/deployments', {
        token: owner.token,
        body: { model: 'llama-3.1-8b-instruct', max_replicas: 2 },
      })
    ).body;
    for (const [body, param] of [
      [{ min_replicas: 5 }, 'max_replicas'],
      [{}, null],
      [{ gpu_types: ['nope'] }, 'gpu_types'],
      [{ model: 'other' }, null],
    ] as const) {
      const response = await call('PATCH', `/api/deployments/${id}`, { token: owner.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      if (param) expect(response.body.error.param).toBe(param);
    }
    const unchanged = await call('GET', `/api/deployments/${id}`, { token: owner.token });
    expect(unchanged.body).toMatchObject({ min_replicas: 0, max_replicas: 2, gpu_types: ['a10g'] });
    expect((await call('GET', '/api/deployments/ep_nonsense', { token: owner.token })).status).toBe(404);
    // A log cursor Redis could not read is the caller's mistake, named, not the server's.
    for (const after of ['99999999999999999999-0', '18446744073709551615-18446744073709551615', 'x-1']) {
      const logs = await call('GET', `/api/deployments/${id}/logs?after=${after}`, { token: owner.token });
      expect(logs.status, after).toBe(400);
      expect(logs.body.error).toMatchObject({ type: 'invalid_request_error', param: 'after' });
    }
    expect(
      (await call('GET', `/api/deployments/${id}/logs?after=1700000000000-0`, { token: owner.token })).status,
    ).toBe(200);
    // A page cursor is an id of the listed kind; anything else is named, not read as "from the start".
    for (const list of [
      '/api/deployments',
      '/api/audit',
      '/api/jobs',
      '/api/auth/api-keys',
      '/api/webhook-deliveries',
    ]) {
      for (const after of ['garbage', id.replace('ep_', 'job_')]) {
        if (list === '/api/jobs' && after.startsWith('job_')) continue;
        const page = await call('GET', `${list}?after=${after}`, { token: owner.token });
        expect(page.status, `${list}?after=${after}`).toBe(400);
        expect(page.body.error).toMatchObject({ type: 'invalid_request_error', param: 'after' });
      }
    }
    expect((await call('GET', `/api/deployments?after=${id}`, { token: owner.token })).status).toBe(200);
  });
});
