import { z } from 'zod';
import { generationFields } from './shared-fields.ts';

const text = z.string().max(1_000_000);

const contentPart = z.union([
  z.object({ type: z.literal('text'), text }).strict(),
  z
    .object({
      type: z.literal('image_url'),
      image_url: z.object({ url: z.string().max(20_000_000), detail: z.string().optional() }),
    })
    .strict(),
]);

const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([text, z.array(contentPart).max(100)]).nullable(),
    name: z.string().max(64).optional(),
    tool_call_id: z.string().max(128).optional(),
    tool_calls: z.array(z.record(z.string(), z.unknown())).max(64).optional(),
  })
  .strict();

/**
 * The Chat Completions request, as the OpenAI SDKs send it. Unknown arguments are refused (OpenAI's
 * own behaviour) rather than silently ignored, so a client never believes a setting took effect.
 */
export const chatCompletionInput = z
  .object({
    ...generationFields,
    messages: z.array(message).min(1, 'must contain at least one message').max(2048),
    max_completion_tokens: z.number().int().min(1).max(1_000_000).nullable().optional(),
    response_format: z.record(z.string(), z.unknown()).optional(),
    tools: z.array(z.record(z.string(), z.unknown())).max(128).optional(),
    tool_choice: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  })
  .strict();

export type ChatCompletionInput = z.infer<typeof chatCompletionInput>;
