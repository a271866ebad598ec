import { describe, expect, it } from 'vitest';
import { call, signUp } from '../../../tests/harness/edge.ts';

describe('deployments', () => {
  it('deploys a catalog model with sensible defaults and a deployment key shown once', async () => {
    const owner = await signUp('deploy-catalog');
    const created = await call('POST', '/api/deployments', {
      token: owner.token,
      body: { model: 'llama-3.1-8b-instruct' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'deployment',
      name: 'Llama 3.1 8B Instruct',
      model: 'llama-3.1-8b-instruct',
      image: null,
      engine: 'vllm',
      gpu_types: ['a10g'],
      gpu_count: 1,
      min_replicas: 0,
      max_replicas: 1,
      idle_timeout_seconds: 300,
      concurrency_per_replica: 8,
      env_keys: [],
      state: 'active',
    });
    expect(created.body.deployment_key).toMatchObject({ kind: 'deployment', endpoint_id: created.body.id });
    expect(created.body.deployment_key.key).toMatch(/^sk_dep_/);

    const listed = await call('GET', '/api/deployments', { token: owner.token });
    expect(listed.body.data.map((d: { id: string }) => d.id)).toEqual([created.body.id]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.deployment_key.key);
    const keys = await call('GET', `/api/auth/api-keys?endpoint_id=${created.body.id}`, {
      token: owner.token,
    });
    expect(keys.body.data).toHaveLength(1);
  });

  it('deploys a custom image on a GPU fallback list, updates knobs, stops, starts and deletes', async () => {
    const owner = await signUp('deploy-image');
    const created = await call('POST', '/api/deployments', {
      token: owner.token,
      body: {
        name: 'my server',
        image: 'ghcr.io/acme/llm-server:1.2',
        gpu_types: ['l4', 'a10g'],
        min_replicas: 1,
        max_replicas: 3,
        concurrency_per_replica: 4,
        env: { HF_TOKEN: 'hf_secret_value', MAX_MODEL_LEN: '8192' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      image: 'ghcr.io/acme/llm-server:1.2',
      model: null,
      gpu_types: ['l4', 'a10g'],
    });
    expect(created.body.env_keys).toEqual(['HF_TOKEN', 'MAX_MODEL_LEN']);
    expect(JSON.stringify(created.body)).not.toContain('hf_secret_value');
    const id = created.body.id;

    const updated = await call('PATCH', `/api/deployments/${id}`, {
      token: owner.token,
      body: { min_replicas: 0, idle_timeout_seconds: 60, gpu_types: ['a10g'] },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      min_replicas: 0,
      max_replicas: 3,
      idle_timeout_seconds: 60,
      gpu_types: ['a10g'],
    });

    expect((await call('POST', `/api/deployments/${id}/stop`, { token: owner.token })).body.state).toBe(
      'stopped',
    );
    expect((await call('POST', `/api/deployments/${id}/start`, { token: owner.token })).body.state).toBe(
      'active',
    );

    const key = created.body.deployment_key.key;
    expect((await call('GET', '/api/org', { token: key })).status).toBe(403);
    expect((await call('DELETE', `/api/deployments/${id}`, { token: owner.token })).status).toBe(204);
    expect((await call('GET', `/api/deployments/${id}`, { token: owner.token })).status).toBe(404);
    expect((await call('GET', '/api/org', { token: key })).status).toBe(401);

    const audit = await call('GET', `/api/audit?target_id=${id}`, { token: owner.token });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual([
      'deployment.delete',
      'deployment.start',
      'deployment.stop',
      'deployment.update',
      'deployment.create',
    ]);
    expect(JSON.stringify(audit.body)).not.toContain('hf_secret_value');
  });

  it('streams the status as it changes: stopping a deployment during the stream shows it stopped', async () => {
    const owner = await signUp('deploy-stream');
    const created = await call('POST', '/api/deployments', {
      token: owner.token,
      body: { model: 'llama-3.1-8b-instruct' },
    });
    const streaming = call('GET', `/api/deployments/${created.body.id}/events/stream?timeout_seconds=5`, {
      token: owner.token,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stopped = await call('POST', `/api/deployments/${created.body.id}/stop`, { token: owner.token });
    expect(stopped.status).toBe(200);
    const frames = ((await streaming).body as string)
      .split('\n\n')
      .filter((frame) => frame.startsWith('event: runtime'))
      .map((frame) => JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null').status);
    expect(frames).toEqual(['scaled_to_zero', 'stopped']);
  });
});
