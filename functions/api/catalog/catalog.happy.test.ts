import { describe, expect, it } from 'vitest';
import { call } from '../../../tests/harness/edge.ts';

describe('catalog', () => {
  it('lists the seeded models, most popular first, with prices and GPUs, without an account', async () => {
    const response = await call('GET', '/api/models');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=60');
    const slugs = response.body.data.map((model: { slug: string }) => model.slug);
    for (const slug of [
      'llama-3.1-8b-instruct',
      'llama-3.1-70b-instruct',
      'mistral-7b-instruct-v0.3',
      'whisper-large-v3',
    ]) {
      expect(slugs).toContain(slug);
    }
    const llama = response.body.data.find(
      (model: { slug: string }) => model.slug === 'llama-3.1-8b-instruct',
    );
    expect(llama).toMatchObject({
      object: 'model_card',
      category: 'llm',
      engine: 'vllm',
      gpu: { slug: 'a10g', memory_gb: 24, count: 1 },
      price_per_hour_usd: 1.01,
      price_per_hour_micro_usd: 1_010_000,
    });
    expect(llama.billing).toContain('per second');
  });

  it('filters by category and counts every category', async () => {
    const transcription = await call('GET', '/api/models?category=transcription');
    expect(transcription.body.data.map((model: { slug: string }) => model.slug)).toEqual([
      'whisper-large-v3',
    ]);
    const categories = await call('GET', '/api/models/categories');
    expect(categories.body.data.map((category: { id: string }) => category.id)).toEqual([
      'llm',
      'embedding',
      'transcription',
      'speech',
      'image',
    ]);
    expect(
      categories.body.data.find((category: { id: string }) => category.id === 'llm').models,
    ).toBeGreaterThanOrEqual(3);
  });

  it('shows one model, and GPUs with both price tiers', async () => {
    const model = await call('GET', '/api/models/whisper-large-v3');
    expect(model.status).toBe(200);
    expect(model.body).toMatchObject({ slug: 'whisper-large-v3', category: 'transcription' });
    const gpus = await call('GET', '/api/gpus');
    const ids = gpus.body.data.map((gpu: { id: string }) => gpu.id);
    expect(ids).toEqual(
      expect.arrayContaining(['rtx-4090', 'l4', 'a10g', 'a100-40gb', 'a100-80gb', 'h100-80gb']),
    );
    expect(gpus.body.data.find((gpu: { id: string }) => gpu.id === 'rtx-4090').price_per_hour_usd).toEqual({
      community: 0.34,
      secure: 0.69,
    });
  });

  it('answers unknown models and categories in the one error shape', async () => {
    const missing = await call('GET', '/api/models/no-such-model');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ type: 'not_found_error', param: 'slug' });
    const badSlug = await call('GET', '/api/models/Not%20A%20Slug');
    expect(badSlug.status).toBe(400);
    const badCategory = await call('GET', '/api/models?category=videos');
    expect(badCategory.status).toBe(400);
    expect(badCategory.body.error.param).toBe('category');
  });
});
