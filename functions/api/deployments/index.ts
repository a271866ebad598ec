import { createRoute, z } from '@hono/zod-openapi';
import type { ServiceContext } from '../../context.ts';
import { createDeploymentInput, updateDeploymentInput } from '../../core/deployments/inputs.ts';
import {
  createDeployment,
  deleteDeployment,
  getDeployment,
  listDeployments,
  setDeploymentState,
  updateDeployment,
} from '../../core/deployments/manage.ts';
import { deploymentEvents, deploymentLogs, deploymentMetrics } from '../../core/deployments/observe.ts';
import { authenticatedRouter } from '../../lib/openapi.ts';
import { reconcileSoon } from '../../lib/orchestrator/nudge.ts';
import { authErrors, bearerSecurity, jsonRequest, jsonResponse, listQuery } from '../schemas.ts';
import {
  CreatedDeploymentSchema,
  DeploymentDetailSchema,
  DeploymentSchema,
  IdParams,
  LogsSchema,
  MetricsSchema,
  ReplicaEventsSchema,
} from './schema.ts';
import { deploymentStream } from './stream.ts';

const tags = ['Deployments'];
const security = bearerSecurity;

/** Stops or starts a deployment; its replicas follow within seconds. */
async function changeState(ctx: ServiceContext, id: string, state: 'active' | 'stopped') {
  const changed = await setDeploymentState({ ctx, id, state });
  reconcileSoon(ctx, changed.id);
  return changed;
}

/** Stop and start share a shape; the literal path keeps each one typed for the client. */
const stateRoute = <A extends 'stop' | 'start'>(action: A, summary: string) =>
  createRoute({
    method: 'post',
    path: `/{id}/${action}` as `/{id}/${A}`,
    tags,
    summary,
    security,
    request: { params: IdParams },
    responses: { 200: jsonResponse('The deployment', DeploymentSchema), ...authErrors },
  });

export const deploymentsRouter = authenticatedRouter()
  .route('/', deploymentStream)
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Deploy a catalog model or a container image as a serverless endpoint',
      description:
        'Scales between `min_replicas` (0 = scale to zero) and `max_replicas`, on the first GPU type of `gpu_types` with capacity. Returns a deployment key (shown once) for calling it.',
      security,
      request: jsonRequest(createDeploymentInput.openapi('CreateDeploymentRequest')),
      responses: { 201: jsonResponse('Created', CreatedDeploymentSchema), ...authErrors },
    }),
    async (c) => {
      const created = await createDeployment({ ctx: c.get('services'), input: c.req.valid('json') });
      reconcileSoon(c.get('services'), created.id);
      c.header('cache-control', 'no-store');
      return c.json(created, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List deployments',
      security,
      request: { query: listQuery('endpoint') },
      responses: {
        200: jsonResponse(
          'A page of deployments',
          z
            .object({
              data: z.array(
                DeploymentSchema.extend({
                  failed_starts: z.number().int().openapi({
                    description:
                      'Replicas that failed to start in a row since one last ran (2 or more with nothing running: failing)',
                  }),
                }),
              ),
              has_more: z.boolean(),
            })
            .openapi('DeploymentList'),
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, after } = c.req.valid('query');
      return c.json(await listDeployments({ ctx: c.get('services'), limit, after }), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get a deployment',
      security,
      request: { params: IdParams },
      responses: { 200: jsonResponse('The deployment', DeploymentDetailSchema), ...authErrors },
    }),
    async (c) => c.json(await getDeployment({ ctx: c.get('services'), id: c.req.valid('param').id }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags,
      summary: 'Change scaling, GPU types or environment',
      security,
      request: { params: IdParams, ...jsonRequest(updateDeploymentInput.openapi('UpdateDeploymentRequest')) },
      responses: { 200: jsonResponse('Updated', DeploymentSchema), ...authErrors },
    }),
    async (c) => {
      const updated = await updateDeployment({
        ctx: c.get('services'),
        id: c.req.valid('param').id,
        input: c.req.valid('json'),
      });
      reconcileSoon(c.get('services'), updated.id);
      return c.json(updated, 200);
    },
  )
  .openapi(stateRoute('stop', 'Stop a deployment (scale to zero, refuse requests)'), async (c) =>
    c.json(await changeState(c.get('services'), c.req.valid('param').id, 'stopped'), 200),
  )
  .openapi(stateRoute('start', 'Start a stopped deployment'), async (c) =>
    c.json(await changeState(c.get('services'), c.req.valid('param').id, 'active'), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a deployment',
      description: 'Stops it and revokes its deployment keys.',
      security,
      request: { params: IdParams },
      responses: { 204: { description: 'Deleted' }, ...authErrors },
    }),
    async (c) => {
      await deleteDeployment({ ctx: c.get('services'), id: c.req.valid('param').id });
      reconcileSoon(c.get('services'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/metrics',
      tags,
      summary: 'Requests, latency percentiles, queue depth, replicas and GPU seconds',
      security,
      request: {
        params: IdParams,
        query: z.object({ window_minutes: z.coerce.number().int().min(1).max(1440).default(60) }),
      },
      responses: {
        200: jsonResponse('Metrics over the window, and per minute', MetricsSchema),
        ...authErrors,
      },
    }),
    async (c) =>
      c.json(
        await deploymentMetrics({
          ctx: c.get('services'),
          id: c.req.valid('param').id,
          windowMinutes: c.req.valid('query').window_minutes,
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/logs',
      tags,
      summary: "What the deployment's workers logged (newest lines; tail with `after`)",
      security,
      request: {
        params: IdParams,
        query: z.object({
          limit: z.coerce.number().int().min(1).max(1000).default(200),
          after: z
            .string()
            .regex(/^\d{1,15}-\d{1,15}$/, 'is not a log line id (e.g. 0-0)')
            .optional(),
        }),
      },
      responses: {
        200: jsonResponse('Log lines', LogsSchema),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, after } = c.req.valid('query');
      return c.json(
        await deploymentLogs({ ctx: c.get('services'), id: c.req.valid('param').id, limit, after }),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/events',
      tags,
      summary: 'Replica events: requested, provisioning, active, releasing, released, failed, release_failed',
      security,
      request: {
        params: IdParams,
        query: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(50),
          before: z
            .string()
            .max(64)
            .regex(/^rev_[1-9A-HJ-NP-Za-km-z]+$/, 'is not an event id')
            .optional()
            .openapi({ description: 'Id of the oldest event of the previous page' }),
        }),
      },
      responses: {
        200: jsonResponse('Events, newest first', ReplicaEventsSchema),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, before } = c.req.valid('query');
      return c.json(
        await deploymentEvents({ ctx: c.get('services'), id: c.req.valid('param').id, limit, before }),
        200,
      );
    },
  );
