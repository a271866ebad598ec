import { createRoute, z } from '@hono/zod-openapi';
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
import { authenticate } from '../../lib/auth/authenticate.ts';
import { createRouter } from '../../lib/openapi.ts';
import { authErrors, bearerSecurity, jsonRequest, jsonResponse, listQuery } from '../schemas.ts';
import { deploymentStream } from './stream.ts';

const tags = ['Deployments'];
const security = bearerSecurity;

const DeploymentSchema = z
  .object({
    id: z.string().openapi({ example: 'ep_2ZkQ8pV7nT4sW9xY3bC1dE' }),
    object: z.literal('deployment'),
    name: z.string(),
    model: z.string().nullable().openapi({ example: 'llama-3.1-8b-instruct' }),
    image: z.string().nullable(),
    engine: z.string(),
    gpu_types: z.array(z.string()),
    gpu_count: z.number(),
    min_replicas: z.number(),
    max_replicas: z.number(),
    idle_timeout_seconds: z.number(),
    concurrency_per_replica: z.number(),
    env_keys: z.array(z.string()),
    state: z.enum(['active', 'stopped']),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Deployment');

const CreatedDeploymentSchema = DeploymentSchema.extend({
  deployment_key: z
    .object({ id: z.string(), key: z.string().openapi({ description: 'sk_dep_… secret, shown once' }) })
    .passthrough(),
}).openapi('CreatedDeployment');

const IdParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'ep_2ZkQ8pV7nT4sW9xY3bC1dE' }),
});

export const deploymentsRouter = createRouter();
deploymentsRouter.use('*', authenticate());
deploymentsRouter.route('/', deploymentStream);

deploymentsRouter.openapi(
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
    c.header('cache-control', 'no-store');
    return c.json(created, 201);
  },
);

deploymentsRouter.openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags,
    summary: 'List deployments',
    security,
    request: { query: listQuery },
    responses: {
      200: jsonResponse(
        'A page of deployments',
        z.object({ data: z.array(DeploymentSchema), has_more: z.boolean() }).openapi('DeploymentList'),
      ),
      ...authErrors,
    },
  }),
  async (c) => {
    const { limit, after } = c.req.valid('query');
    return c.json(await listDeployments({ ctx: c.get('services'), limit, after }), 200);
  },
);

deploymentsRouter.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags,
    summary: 'Get a deployment',
    security,
    request: { params: IdParams },
    responses: { 200: jsonResponse('The deployment', DeploymentSchema), ...authErrors },
  }),
  async (c) => c.json(await getDeployment({ ctx: c.get('services'), id: c.req.valid('param').id }), 200),
);

deploymentsRouter.openapi(
  createRoute({
    method: 'patch',
    path: '/{id}',
    tags,
    summary: 'Change scaling, GPU types or environment',
    security,
    request: { params: IdParams, ...jsonRequest(updateDeploymentInput.openapi('UpdateDeploymentRequest')) },
    responses: { 200: jsonResponse('Updated', DeploymentSchema), ...authErrors },
  }),
  async (c) =>
    c.json(
      await updateDeployment({
        ctx: c.get('services'),
        id: c.req.valid('param').id,
        input: c.req.valid('json'),
      }),
      200,
    ),
);

for (const [action, state] of [
  ['stop', 'stopped'],
  ['start', 'active'],
] as const) {
  deploymentsRouter.openapi(
    createRoute({
      method: 'post',
      path: `/{id}/${action}`,
      tags,
      summary:
        action === 'stop'
          ? 'Stop a deployment (scale to zero, refuse requests)'
          : 'Start a stopped deployment',
      security,
      request: { params: IdParams },
      responses: { 200: jsonResponse('The deployment', DeploymentSchema), ...authErrors },
    }),
    async (c) =>
      c.json(await setDeploymentState({ ctx: c.get('services'), id: c.req.valid('param').id, state }), 200),
  );
}

deploymentsRouter.openapi(
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
    return c.body(null, 204);
  },
);

deploymentsRouter.openapi(
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
      200: jsonResponse(
        'Metrics over the window, and per minute',
        z.record(z.string(), z.unknown()).openapi('DeploymentMetrics'),
      ),
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
);

deploymentsRouter.openapi(
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
          .regex(/^\d+-\d+$/, 'is not a log line id')
          .optional(),
      }),
    },
    responses: {
      200: jsonResponse('Log lines', z.record(z.string(), z.unknown()).openapi('DeploymentLogs')),
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
);

deploymentsRouter.openapi(
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
      200: jsonResponse('Events, newest first', z.record(z.string(), z.unknown()).openapi('ReplicaEvents')),
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
