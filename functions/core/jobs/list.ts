import { and, desc, eq, lt } from 'drizzle-orm';
import { jobs } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { authorize } from '../orgs/authorize.ts';
import { pageOf } from '../page.ts';
import { toJobView } from './view.ts';

/**
 * The org's async jobs, newest first (synchronous requests live only as long as their answer). A list
 * leaves results out: `GET /v1/jobs/{id}` has them, with file links signed for the reader.
 */
export async function listJobs({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { limit: number; after?: string | undefined; deploymentId?: string | undefined };
}) {
  const { caller } = authorize(ctx.caller, 'endpoint.read');
  const rows = await ctx.db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.orgId, caller.orgId),
        input.deploymentId ? eq(jobs.endpointId, input.deploymentId) : undefined,
        input.after ? lt(jobs.id, input.after) : undefined,
      ),
    )
    .orderBy(desc(jobs.id))
    .limit(input.limit + 1);
  return {
    object: 'list' as const,
    ...pageOf(rows, input.limit, (row) => ({ ...toJobView(row), result: null })),
  };
}
