import { createRoute, z } from '@hono/zod-openapi';
import { ForbiddenError, NotFoundError } from '../core/errors.ts';
import { isId } from '../core/ids.ts';
import { checkOutputLink } from '../core/payloads/links.ts';
import { outputContentType } from '../core/payloads/store.ts';
import { readOutput } from '../lib/inference/outputs.ts';
import { createRouter } from '../lib/openapi.ts';

export const files = createRouter();

files.openapi(
  createRoute({
    method: 'get',
    path: '/files/{job}/{name}',
    tags: ['OpenAI-compatible'],
    summary: 'Download a generated file (the links in image and speech results)',
    description:
      'No credential: the signed link is the permission. Links expire (an hour for synchronous answers, a day for async results).',
    request: {
      params: z.object({ job: z.string().max(64), name: z.string().max(80) }),
      query: z.object({ expires: z.string().max(20).optional(), signature: z.string().max(128).optional() }),
    },
    responses: {
      200: {
        description: 'The file',
        content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      },
    },
  }),
  async (c) => {
    const ctx = c.get('services');
    const { job, name } = c.req.valid('param');
    const { expires, signature } = c.req.valid('query');
    if (!isId('job', job)) throw new NotFoundError('This file does not exist or has expired.');
    const nowSeconds = Math.floor(ctx.clock.now().getTime() / 1000);
    const check = await checkOutputLink(
      ctx.config.AUTH_SECRET,
      { jobId: job, name },
      expires,
      signature,
      nowSeconds,
    );
    if (check === 'invalid') throw new ForbiddenError('This link is not valid.');
    if (check === 'expired')
      throw new ForbiddenError('This link has expired. Fetch the job again for a new one.');
    const stored = await readOutput(ctx, job, name);
    const maxAge = Math.max(0, Number(expires) - nowSeconds);
    return c.body(stored.body, 200, {
      'content-type': outputContentType(name),
      // A generated file is data, never a page: no script, no forms, no embedding of anything.
      'content-security-policy': "default-src 'none'; sandbox",
      'content-length': String(stored.size),
      'content-disposition': `inline; filename="${name}"`,
      'cache-control': `private, max-age=${maxAge}, immutable`,
      'x-content-type-options': 'nosniff',
    }) as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
  },
);
