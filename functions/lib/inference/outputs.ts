import type { ServiceContext } from '../../context.ts';
import { base64 } from '../../core/base64.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { TranscriptFormat, VerboseTranscript } from '../../core/inference/transcript.ts';
import { renderTranscript } from '../../core/inference/transcript.ts';
import { presentFiles, signOutputLink } from '../../core/payloads/links.ts';
import { jobOutputKey } from '../../core/payloads/store.ts';

/** Links in a synchronous answer last an hour, as OpenAI's image URLs do. */
export const SYNC_LINK_SECONDS = 3600;
/** Async results are read later (webhook receivers, polling): their links last as long as the files. */
export const ASYNC_LINK_SECONDS = 24 * 3600;

export async function outputLink(ctx: ServiceContext, jobId: string, name: string, ttlSeconds: number) {
  const expires = Math.floor(ctx.clock.now().getTime() / 1000) + ttlSeconds;
  return signOutputLink(ctx.config.AUTH_SECRET, ctx.config.PUBLIC_URL, { jobId, name }, expires);
}

/** The file a worker stored for a job, or a 404 once it has expired (payloads are kept one day). */
export async function readOutput(ctx: ServiceContext, jobId: string, name: string) {
  const stored = await ctx.payloads.get(jobOutputKey(jobId, name));
  if (!stored) throw new NotFoundError('This file does not exist or has expired.');
  return stored;
}

export const linkFiles = (
  ctx: ServiceContext,
  jobId: string,
  result: Record<string, unknown>,
  ttlSeconds: number,
) => presentFiles(result, async (ref) => ({ url: await outputLink(ctx, jobId, ref.file, ttlSeconds) }));

export const inlineFiles = (ctx: ServiceContext, jobId: string, result: Record<string, unknown>) =>
  presentFiles(result, async (ref) => {
    const stored = await readOutput(ctx, jobId, ref.file);
    const bytes = new Uint8Array(await new Response(stored.body).arrayBuffer());
    return { b64_json: base64(bytes) };
  });

/**
 * An async job's result as `GET /v1/jobs/{id}` and its webhook show it: files become links, a
 * transcript takes the format the request asked for (text formats as `{ format, content }`).
 */
export async function asyncResultView(
  ctx: ServiceContext,
  job: { id: string; kind: string; input: unknown },
  output: unknown,
): Promise<unknown> {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return output ?? null;
  if (job.kind === 'audio.transcription') {
    const input = job.input as { response_format?: TranscriptFormat; timestamp_granularities?: string[] };
    const format = input.response_format ?? 'json';
    const rendered = renderTranscript(output as VerboseTranscript, format, input.timestamp_granularities);
    return rendered.kind === 'json' ? rendered.body : { format, content: rendered.body };
  }
  return linkFiles(ctx, job.id, output as Record<string, unknown>, ASYNC_LINK_SECONDS);
}
