import { z } from 'zod';
import { asyncFields } from './async-fields.ts';

/** The legacy Completions request (one prompt). */
export const completionInput = z
  .object({
    model: z.string().min(1).max(200),
    prompt: z.union([
      z.string().max(1_000_000),
      z.array(z.string().max(1_000_000)).length(1, 'one prompt per request'),
    ]),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullable().optional(),
    max_tokens: z.number().int().min(1).max(1_000_000).nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    n: z.literal(1, { error: 'only n=1 is supported' }).nullable().optional(),
    stop: z
      .union([z.string().max(256), z.array(z.string().max(256)).max(4)])
      .nullable()
      .optional(),
    presence_penalty: z.number().min(-2).max(2).nullable().optional(),
    frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    user: z.string().max(256).optional(),
    logit_bias: z.record(z.string(), z.number()).nullable().optional(),
    ...asyncFields,
  })
  .strict();

/** The Embeddings request: text in, vectors out (float arrays, or base64 of little-endian float32). */
export const embeddingInput = z
  .object({
    model: z.string().min(1).max(200),
    input: z.union([
      z.string().min(1).max(1_000_000),
      z.array(z.string().min(1).max(1_000_000)).min(1).max(2048),
    ]),
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().min(1).max(4096).optional(),
    user: z.string().max(256).optional(),
    ...asyncFields,
  })
  .strict();
