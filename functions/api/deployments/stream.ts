import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { streamSSE } from 'hono/streaming';
import { endpoints } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recheckCaller } from '../../core/auth/recheck.ts';
import { followedDeployment } from '../../core/deployments/observe.ts';
import { deploymentRuntime } from '../../core/deployments/runtime.ts';
import { authorize } from '../../core/orgs/authorize.ts';
import { replicaEventsAfter } from '../../core/replicas/events.ts';
import { errorBody, toServiceError } from '../../lib/http-errors.ts';
import { servicesForStream, withServices } from '../../lib/init.ts';
import { readWorkerLogs } from '../../lib/logs.ts';
import { createRouter } from '../../lib/openapi.ts';
import { authErrors, bearerSecurity } from '../schemas.ts';

const POLL_MS = 2_000;
/** How often a stream checks that its caller may still follow the deployment. */
const RECHECK_MS = 30_000;
const EVENT_ID = /^rev_[1-9A-HJ-NP-Za-km-z]{1,40}$/;
/** Log lines sent per poll: a worker flooding its output cannot hold the stream on one poll. */
const LOG_BATCH = 200;

/**
 * Null while the stream's caller may still follow the deployment; else the error that ends the stream
 * (a revoked key or session, a removed member, a deleted deployment), in the API's error shape.
 */
async function stillFollowing(ctx: ServiceContext, endpointId: string) {
  try {
    const caller = await recheckCaller(ctx, authorize(ctx.caller, 'endpoint.read').caller);
    await followedDeployment(withServices(ctx, { caller }), endpointId);
    return null;
  } catch (thrown) {
    const error = toServiceError(thrown);
    // Trouble reaching the store is not a revocation: the next check decides.
    if (error.code === 'service_unavailable') return null;
    return errorBody(error.code, error.message, error.param);
  }
}

export const deploymentStream = createRouter().openapi(
  createRoute({
    method: 'get',
    path: '/{id}/events/stream',
    tags: ['Deployments'],
    summary:
      'Live status (SSE): `runtime` when it changes, `replica` for each lifecycle event, `log` for worker lines',
    description:
      'Resume after a disconnect with `Last-Event-ID` (the last `replica` event id). Worker log lines are sent only when asked for: `logs_after` is the last line id you have (`0-0` for every line kept). The stream ends after `timeout_seconds`; `0` sends the current state and ends.',
    security: bearerSecurity,
    request: {
      params: z.object({ id: z.string().max(64) }),
      query: z.object({
        timeout_seconds: z.coerce.number().int().min(0).max(900).default(300),
        logs_after: z
          .string()
          .regex(/^\d{1,15}-\d{1,15}$/, 'is not a log line id (e.g. 0-0)')
          .optional(),
      }),
    },
    responses: {
      200: {
        description: 'An SSE stream',
        content: { 'text/event-stream': { schema: z.string() } },
      },
      ...authErrors,
    },
  }),
  async (c) => {
    const services = c.get('services');
    const endpoint = await followedDeployment(services, c.req.valid('param').id);
    const resumeFrom = c.req.header('last-event-id');
    let after = resumeFrom && EVENT_ID.test(resumeFrom) ? resumeFrom : null;
    const query = c.req.valid('query');
    let logsAfter = query.logs_after;
    const until = services.clock.now().getTime() + query.timeout_seconds * 1000;
    const response = streamSSE(c, async (stream) => {
      const { ctx, close } = servicesForStream(services);
      let lastRuntime = '';
      let checkedAt = services.clock.now().getTime();
      try {
        for (;;) {
          if (services.clock.now().getTime() - checkedAt >= RECHECK_MS) {
            checkedAt = services.clock.now().getTime();
            const ended = await stillFollowing(ctx, endpoint.id);
            if (ended) {
              await stream.writeSSE({ event: 'error', data: JSON.stringify(ended) });
              break;
            }
          }
          for (const event of await replicaEventsAfter(ctx, endpoint.id, after)) {
            await stream.writeSSE({ event: 'replica', id: event.id, data: JSON.stringify(event) });
            after = event.id;
          }
          if (logsAfter !== undefined) {
            for (const line of await readWorkerLogs(ctx.redis, endpoint.id, LOG_BATCH, logsAfter)) {
              await stream.writeSSE({ event: 'log', data: JSON.stringify(line) });
              logsAfter = line.id;
            }
          }
          // Read again each time: a start, stop or settings change during the stream is its status.
          const [current] = await ctx.db
            .select({ id: endpoints.id, state: endpoints.state })
            .from(endpoints)
            .where(eq(endpoints.id, endpoint.id));
          const runtime = JSON.stringify(await deploymentRuntime(ctx, current ?? endpoint));
          if (runtime !== lastRuntime) await stream.writeSSE({ event: 'runtime', data: runtime });
          lastRuntime = runtime;
          if (stream.aborted || services.clock.now().getTime() + POLL_MS > until) break;
          await stream.sleep(POLL_MS);
        }
      } finally {
        await close();
      }
    });
    return response;
  },
);
