import { z } from 'zod';
import { asyncFields, generationFields } from './shared-fields.ts';

/** The legacy Completions request (one prompt). */
export const completionInput = z
  .object({
    ...generationFields,
    prompt: z.union([
      z.string().max(1_000_000),
      z.array(z.string().max(1_000_000)).length(1, 'one prompt per request'),
    ]),
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
