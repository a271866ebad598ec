import { z } from 'zod';
import { NO_NUL } from '../auth/inputs.ts';
import { WEBHOOK_EVENTS } from '../jobs/states.ts';
import { asyncFields } from './shared-fields.ts';
import { TRANSCRIPT_FORMATS } from './transcript.ts';

/** OpenAI's limit for audio uploads. */
export const MAX_AUDIO_FILE_BYTES = 25 * 1024 * 1024;

const GRANULARITIES = ['segment', 'word'] as const;
const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item)]).transform((value) => (Array.isArray(value) ? value : [value]));

/**
 * `POST /v1/audio/transcriptions` (and `/translations`): multipart form fields, so numbers and lists
 * arrive as strings (`timestamp_granularities[]` repeated, as the openai SDK sends it).
 */
export const transcriptionInput = z
  .object({
    file: z
      .instanceof(File, { error: 'is required: the audio file to transcribe' })
      .refine((file) => file.size > 0, 'is empty'),
    // Form fields skip the JSON body's screening: Postgres text and jsonb cannot hold NUL.
    model: z
      .string()
      .min(1)
      .max(200)
      .refine(...NO_NUL),
    language: z
      .string()
      .regex(/^[a-z]{2,3}$/, 'must be an ISO-639-1 code such as "en"')
      .optional(),
    prompt: z
      .string()
      .max(4000)
      .refine(...NO_NUL)
      .optional(),
    response_format: z.enum(TRANSCRIPT_FORMATS).default('json'),
    temperature: z.coerce.number().min(0).max(1).optional(),
    'timestamp_granularities[]': oneOrMany(z.enum(GRANULARITIES)).optional(),
    webhook: asyncFields.webhook,
    'webhook_events[]': oneOrMany(z.enum(WEBHOOK_EVENTS)).optional(),
  })
  .strict();
export type TranscriptionInput = z.infer<typeof transcriptionInput>;

export const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;

/** `POST /v1/audio/speech`. `voice` is the engine's speaker name (OpenAI's names map to XTTS speakers). */
export const speechInput = z
  .object({
    model: z.string().min(1).max(200),
    input: z.string().min(1).max(4096),
    voice: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\w .'-]+$/, 'must be a speaker name'),
    response_format: z.enum(SPEECH_FORMATS).default('mp3'),
    speed: z.number().min(0.25).max(4).default(1),
    instructions: z.string().max(4096).optional(),
    stream_format: z.literal('audio', { error: 'only "audio" is supported' }).optional(),
    ...asyncFields,
  })
  .strict();

/** Image sizes: `WIDTHxHEIGHT`, each a multiple of 64 from 256 to 2048 (what SDXL and Flux accept). */
const imageSize = z
  .string()
  .regex(/^\d{3,4}x\d{3,4}$/, 'must be WIDTHxHEIGHT, e.g. 1024x1024')
  .refine((size) => {
    const [width = 0, height = 0] = size.split('x').map(Number);
    return [width, height].every((side) => side >= 256 && side <= 2048 && side % 64 === 0);
  }, 'each side must be a multiple of 64 from 256 to 2048');

/** `POST /v1/images/generations`, plus the diffusion knobs SDXL and Flux users expect. */
export const imageInput = z
  .object({
    model: z.string().min(1).max(200),
    prompt: z.string().min(1).max(4000),
    n: z.number().int().min(1).max(4).default(1),
    size: imageSize.default('1024x1024'),
    response_format: z.enum(['url', 'b64_json']).default('url'),
    output_format: z.literal('png', { error: 'only "png" is supported' }).optional(),
    quality: z.enum(['auto', 'standard', 'hd', 'low', 'medium', 'high']).optional(),
    style: z.enum(['vivid', 'natural']).optional(),
    user: z.string().max(256).optional(),
    negative_prompt: z.string().max(4000).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
    num_inference_steps: z.number().int().min(1).max(100).optional(),
    guidance_scale: z.number().min(0).max(30).optional(),
    ...asyncFields,
  })
  .strict();
