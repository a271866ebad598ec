import { and, asc, eq, isNull } from 'drizzle-orm';
import { endpoints, models } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { authorizeInference } from '../orgs/authorize.ts';

/** OpenAI's `GET /v1/models`: the caller's callable deployments (a deployment key sees its own). */
export async function listCallableModels({ ctx }: { ctx: ServiceContext }) {
  const { caller, boundEndpointId: bound } = authorizeInference(ctx.caller);
  const rows = await ctx.db
    .select({ id: endpoints.id, name: endpoints.name, createdAt: endpoints.createdAt, slug: models.slug })
    .from(endpoints)
    .leftJoin(models, eq(models.id, endpoints.modelId))
    .where(
      and(
        eq(endpoints.orgId, caller.orgId),
        isNull(endpoints.deletedAt),
        bound ? eq(endpoints.id, bound) : undefined,
      ),
    )
    .orderBy(asc(endpoints.createdAt));
  return rows.map((row) => ({
    id: row.id,
    object: 'model' as const,
    created: Math.floor(row.createdAt.getTime() / 1000),
    owned_by: caller.orgId,
    name: row.name,
    base_model: row.slug,
  }));
}
