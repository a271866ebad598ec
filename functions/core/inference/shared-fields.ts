import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../jobs/states.ts';

/** Our extension to OpenAI's requests: run asynchronously and announce the end (Standard Webhooks). */
export const asyncFields = {
  webhook: z.string().max(2048).optional(),
  webhook_events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).optional(),
};

/** What chat and text completions share: the model, streaming and the sampling settings. */
export const generationFields = {
  model: z.string().min(1).max(200),
  stream: z.boolean().optional(),
  stream_options: z
    .object({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })
    .strict()
    .nullable()
    .optional(),
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
  // Token ids to a bias from -100 (never) to 100 (always), as OpenAI takes them.
  logit_bias: z
    .record(z.string().regex(/^\d{1,9}$/, 'keys must be token ids'), z.number().min(-100).max(100))
    .refine((bias) => Object.keys(bias).length <= 1024, 'at most 1024 tokens')
    .nullable()
    .optional(),
  ...asyncFields,
};
