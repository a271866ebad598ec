import { createRoute, z } from '@hono/zod-openapi';
import { listAudit } from '../../core/audit/list.ts';
import { authenticatedRouter } from '../../lib/openapi.ts';
import { authErrors, bearerSecurity, jsonResponse, listQuery, queryText } from '../schemas.ts';

const AuditEventSchema = z
  .object({
    id: z.string(),
    object: z.literal('audit_event'),
    action: z.string().openapi({ example: 'api_key.revoke' }),
    actor: z.object({ type: z.string(), id: z.string() }),
    target: z.object({ type: z.string(), id: z.string() }),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi('AuditEvent');

export const auditRouter = authenticatedRouter().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Audit log'],
    summary: "The organization's audit log",
    description: 'Every change, newest first, with who made it and from where. Owners and admins.',
    security: bearerSecurity,
    request: {
      query: listQuery('auditEvent').extend({
        action: queryText().optional(),
        actor_id: queryText().optional(),
        target_id: queryText().optional(),
      }),
    },
    responses: {
      200: jsonResponse(
        'A page of events',
        z.object({ data: z.array(AuditEventSchema), has_more: z.boolean() }).openapi('AuditEventList'),
      ),
      ...authErrors,
    },
  }),
  async (c) => {
    const query = c.req.valid('query');
    const page = await listAudit({
      ctx: c.get('services'),
      input: {
        limit: query.limit,
        after: query.after,
        action: query.action,
        actorId: query.actor_id,
        targetId: query.target_id,
      },
    });
    return c.json(page, 200);
  },
);
