import { createRoute, z } from '@hono/zod-openapi';
import { listJobs } from '../../core/jobs/list.ts';
import { authenticatedRouter } from '../../lib/openapi.ts';
import { authErrors, bearerSecurity, jsonResponse, listQuery, queryText } from '../schemas.ts';

export const jobsRouter = authenticatedRouter().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Inference'],
    summary: 'Recent async jobs of the organization (newest first; results at GET /v1/jobs/{id})',
    security: bearerSecurity,
    request: { query: listQuery('job').extend({ deployment_id: queryText().optional() }) },
    responses: {
      200: jsonResponse(
        'A page of jobs',
        z
          .object({
            object: z.literal('list'),
            data: z.array(
              z
                .object({
                  id: z.string(),
                  object: z.literal('job'),
                  status: z.string(),
                  kind: z.string(),
                  deployment_id: z.string(),
                  created_at: z.string(),
                  started_at: z.string().nullable(),
                  completed_at: z.string().nullable(),
                  error: z.unknown(),
                  gpu_seconds: z.number().nullable(),
                  cost_usd: z.number().nullable(),
                  webhook: z.string().nullable(),
                })
                .openapi('JobSummary'),
            ),
            has_more: z.boolean(),
          })
          .openapi('JobList'),
      ),
      ...authErrors,
    },
  }),
  async (c) => {
    const { limit, after, deployment_id } = c.req.valid('query');
    return c.json(
      await listJobs({ ctx: c.get('services'), input: { limit, after, deploymentId: deployment_id } }),
      200,
    );
  },
);
