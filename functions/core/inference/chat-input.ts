import { z } from 'zod';
import { publicUrlProblem } from '../public-url.ts';
import { generationFields } from './shared-fields.ts';

const text = z.string().max(1_000_000);

/**
 * An image for a vision model: inline (`data:image/…;base64,…`), or a URL the model server will fetch
 * from the GPU host, so only public https (not the host's metadata endpoint or a private network).
 */
const imageUrl = z
  .string()
  .max(20_000_000)
  .superRefine((url, issues) => {
    if (/^data:image\/[\w.+-]+;base64,/i.test(url)) return;
    const problem = publicUrlProblem(url, { allowPrivate: false });
    if (problem) issues.addIssue({ code: 'custom', message: `${problem} (or be a data:image/…;base64 URL)` });
  });

const contentPart = z.union([
  z.object({ type: z.literal('text'), text }).strict(),
  z
    .object({
      type: z.literal('image_url'),
      image_url: z.object({ url: imageUrl, detail: z.enum(['auto', 'low', 'high']).optional() }).strict(),
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
    // What the OpenAI SDKs put on every assistant message they return, so replayed history carries them.
    refusal: z.string().max(1_000_000).nullable().optional(),
    annotations: z.array(z.record(z.string(), z.unknown())).max(1024).optional(),
    audio: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .strict()
  .refine((sent) => sent.content !== null || sent.role === 'assistant', {
    message: 'must not be null (only an assistant message may go without content)',
    path: ['content'],
  });

/** A function the model may call: the one kind of tool model servers run. */
const tool = z
  .object({
    type: z.literal('function', { error: 'only function tools are supported' }),
    function: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -'),
        description: z.string().max(100_000).optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullable().optional(),
      })
      .strict(),
  })
  .strict();

const toolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z
      .object({
        type: z.literal('function'),
        function: z.object({ name: z.string().min(1).max(64) }).strict(),
      })
      .strict(),
  ],
  { error: 'must be "none", "auto", "required" or {"type": "function", "function": {"name": …}}' },
);

/** OpenAI settings about OpenAI's own service (storage, tiers, caching), accepted and not passed on. */
const serviceOnly = {
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  store: z.boolean().nullable().optional(),
  service_tier: z.string().max(32).nullable().optional(),
  prompt_cache_key: z.string().max(1024).optional(),
  safety_identifier: z.string().max(256).optional(),
};

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
    tools: z.array(tool).max(128).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
    reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']).nullable().optional(),
    ...serviceOnly,
  })
  .strict();

export type ChatCompletionInput = z.infer<typeof chatCompletionInput>;

/**
 * The request as the model server gets it: without the settings only OpenAI's service has, and without
 * what SDK-returned history adds to messages (a refusal, annotations, audio) that no template reads.
 */
export function chatForEngine(input: Omit<ChatCompletionInput, 'webhook' | 'webhook_events'>) {
  const {
    metadata: _metadata,
    store: _store,
    service_tier: _tier,
    prompt_cache_key: _cacheKey,
    safety_identifier: _safety,
    messages,
    ...rest
  } = input;
  return {
    ...rest,
    messages: messages.map(
      ({ refusal: _refusal, annotations: _annotations, audio: _audio, ...kept }) => kept,
    ),
  };
}
