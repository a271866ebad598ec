import { createRoute, z } from '@hono/zod-openapi';
import { listDeliveries, replayDelivery } from '../../core/webhooks/deliveries.ts';
import { authenticatedRouter } from '../../lib/openapi.ts';
import { publishDelivery } from '../../lib/webhooks/publish.ts';
import { authErrors, bearerSecurity, jsonResponse, listQuery, queryText } from '../schemas.ts';

const tags = ['Webhooks'];

const DeliverySchema = z
  .object({
    id: z.string(),
    object: z.literal('webhook_delivery'),
    job_id: z.string(),
    event: z.string().openapi({ example: 'job.succeeded' }),
    url: z.string(),
    status: z.string().openapi({ description: 'pending, succeeded or failed (all retries used)' }),
    attempts: z.array(
      z.object({
        at: z.string(),
        status_code: z.number().nullable(),
        error: z.string().nullable(),
        duration_ms: z.number(),
      }),
    ),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookDelivery');

export const webhooksRouter = authenticatedRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'Job webhook deliveries and every attempt',
      security: bearerSecurity,
      request: { query: listQuery('webhookDelivery').extend({ job_id: queryText().optional() }) },
      responses: {
        200: jsonResponse(
          'A page of deliveries',
          z.object({ data: z.array(DeliverySchema), has_more: z.boolean() }).openapi('WebhookDeliveryList'),
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, after, job_id } = c.req.valid('query');
      return c.json(
        await listDeliveries({ ctx: c.get('services'), input: { limit, after, jobId: job_id } }),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{id}/replay',
      tags,
      summary: 'Send a delivery again',
      security: bearerSecurity,
      request: {
        params: z.object({
          id: z
            .string()
            .max(64)
            .openapi({ param: { name: 'id', in: 'path' } }),
        }),
      },
      responses: { 202: jsonResponse('Queued for delivery', DeliverySchema), ...authErrors },
    }),
    async (c) => {
      const ctx = c.get('services');
      const replayed = await replayDelivery({
        ctx,
        id: c.req.valid('param').id,
        publish: (id) => publishDelivery(ctx, id, false),
      });
      return c.json(replayed, 202);
    },
  );
