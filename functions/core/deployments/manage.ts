import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import { apiKeys, endpoints, gpuTypes, models } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Database, Transaction } from '../../lib/db.ts';
import { failedStartsOf } from '../../lib/orchestrator/failed-starts.ts';
import { assertVerified, humanBehind } from '../actor.ts';
import { cacheRevokedKeys } from '../api-keys/cache.ts';
import { insertApiKey } from '../api-keys/store.ts';
import { toApiKeyView } from '../api-keys/view.ts';
import { auditActorOf, recordAudit } from '../audit/record.ts';
import { capColumns } from '../billing/caps.ts';
import { InvalidRequestError, NotFoundError } from '../errors.ts';
import { isId, newId } from '../ids.ts';
import { authorize } from '../orgs/authorize.ts';
import { pageOf } from '../page.ts';
import { checkGpuChoice } from './gpus.ts';
import {
  type CreateDeploymentInput,
  createDeploymentInput,
  type UpdateDeploymentInput,
  updateDeploymentInput,
} from './inputs.ts';
import { type DeploymentRuntime, deploymentRuntime } from './runtime.ts';
import { type DeploymentView, toDeploymentView } from './view.ts';

const notFound = () => new NotFoundError('Deployment not found.', { param: 'id' });

/** LLM servers batch requests, so a replica takes several at once; other engines one at a time. */
const DEFAULT_CONCURRENCY: Record<string, number> = { vllm: 8, whisper: 1, diffusers: 1, tts: 2 };

async function catalogModel(tx: Transaction, slug: string) {
  const [row] = await tx
    .select({ model: models, gpu: gpuTypes })
    .from(models)
    .innerJoin(gpuTypes, eq(gpuTypes.id, models.defaultGpuTypeId))
    .where(and(eq(models.slug, slug), eq(models.public, true)));
  if (!row)
    throw new InvalidRequestError(`model: no model '${slug}' in the catalog (see GET /api/models).`, {
      param: 'model',
    });
  return row;
}

/** A live deployment of the caller's org; `lock` takes its row for the rest of the transaction. */
export async function findDeployment(tx: Database | Transaction, orgId: string, id: string, lock = false) {
  if (!isId('endpoint', id)) throw notFound();
  const query = tx
    .select({
      endpoint: endpoints,
      model: { slug: models.slug, engine: models.engine, gpuCount: models.gpuCount },
    })
    .from(endpoints)
    .leftJoin(models, eq(models.id, endpoints.modelId))
    .where(and(eq(endpoints.id, id), eq(endpoints.orgId, orgId), isNull(endpoints.deletedAt)));
  const [row] = lock ? await query.for('update', { of: endpoints }) : await query;
  if (!row) throw notFound();
  return row;
}

/**
 * Creates the endpoint and its first deployment key (shown once). With `min_replicas: 0` nothing runs
 * until the first request arrives.
 */
export async function createDeployment({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: CreateDeploymentInput;
}) {
  const { caller } = authorize(ctx.caller, 'endpoint.manage');
  assertVerified(caller.actor);
  const parsed = createDeploymentInput.parse(input);
  // ECS runs the platform's task definitions, one per engine, and a task cannot swap its image: a
  // custom image there would start the stock image instead, fail and restart forever.
  if (parsed.image && ctx.config.COMPUTE_PROVIDER === 'ecs') {
    throw new InvalidRequestError(
      'Custom images are not available on this platform yet: deploy a model from the catalog.',
      { param: 'image' },
    );
  }
  return ctx.db.transaction(async (tx) => {
    const catalog = parsed.model ? await catalogModel(tx, parsed.model) : null;
    const gpuCount = parsed.gpu_count ?? catalog?.model.gpuCount ?? 1;
    const gpuTypesChosen = parsed.gpu_types ?? (catalog ? [catalog.gpu.slug] : []);
    const needsMemory = catalog ? catalog.gpu.memoryGb * catalog.model.gpuCount : null;
    await checkGpuChoice(tx, gpuTypesChosen, gpuCount, needsMemory);
    const engine = catalog?.model.engine ?? 'vllm';
    const [row] = await tx
      .insert(endpoints)
      .values({
        id: newId('endpoint'),
        orgId: caller.orgId,
        name: parsed.name ?? catalog?.model.name ?? parsed.image ?? 'deployment',
        modelId: catalog?.model.id ?? null,
        image: parsed.image ?? null,
        gpuTypes: gpuTypesChosen,
        gpuCount,
        minReplicas: parsed.min_replicas,
        maxReplicas: parsed.max_replicas,
        idleTimeoutSeconds: parsed.idle_timeout_seconds,
        concurrencyPerReplica: parsed.concurrency_per_replica ?? DEFAULT_CONCURRENCY[engine] ?? 1,
        env: parsed.env,
        ...capColumns(parsed.spend_cap),
        createdByUserId: humanBehind(caller.actor),
      })
      .returning();
    if (!row) throw new Error('insert returned no row');
    const key = await insertApiKey(tx, {
      orgId: caller.orgId,
      kind: 'deployment',
      endpointId: row.id,
      role: null,
      rateLimitPerMinute: null,
      name: `${row.name} (deployment key)`,
      createdByUserId: humanBehind(caller.actor),
      expiresAt: null,
    });
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'deployment.create',
      targetType: 'deployment',
      targetId: row.id,
      origin: ctx.origin,
      metadata: {
        model: parsed.model ?? null,
        image: parsed.image ?? null,
        gpuTypes: gpuTypesChosen,
        deploymentKeyId: key.row.id,
      },
    });
    return {
      ...toDeploymentView(row, catalog ? { slug: catalog.model.slug, engine } : null),
      deployment_key: { ...toApiKeyView(key.row), key: key.secret },
    };
  });
}

export async function listDeployments({
  ctx,
  limit,
  after,
}: {
  ctx: ServiceContext;
  limit: number;
  after?: string | undefined;
}) {
  const { caller } = authorize(ctx.caller, 'endpoint.read');
  const rows = await ctx.db
    .select({ endpoint: endpoints, model: { slug: models.slug, engine: models.engine } })
    .from(endpoints)
    .leftJoin(models, eq(models.id, endpoints.modelId))
    .where(
      and(
        eq(endpoints.orgId, caller.orgId),
        isNull(endpoints.deletedAt),
        after ? lt(endpoints.id, after) : undefined,
      ),
    )
    .orderBy(desc(endpoints.id))
    .limit(limit + 1);
  // Each with its failed starts in a row (one query for the page), so the list can tell a failing
  // deployment from a running one.
  const failed = await failedStartsOf(
    ctx.db,
    rows.slice(0, limit).map((row) => row.endpoint.id),
  );
  return pageOf(rows, limit, (row) => ({
    ...toDeploymentView(row.endpoint, row.model),
    failed_starts: failed.get(row.endpoint.id)?.count ?? 0,
  }));
}

export async function getDeployment({
  ctx,
  id,
}: {
  ctx: ServiceContext;
  id: string;
}): Promise<DeploymentView & { runtime: DeploymentRuntime }> {
  const { caller } = authorize(ctx.caller, 'endpoint.read');
  const row = await findDeployment(ctx.db, caller.orgId, id);
  return {
    ...toDeploymentView(row.endpoint, row.model),
    runtime: await deploymentRuntime(ctx, row.endpoint),
  };
}

/** Changes scaling knobs, GPU choice or env; running replicas pick up env changes on their next start. */
export async function updateDeployment({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: UpdateDeploymentInput;
}) {
  const { caller } = authorize(ctx.caller, 'endpoint.manage');
  const parsed = updateDeploymentInput.parse(input);
  return ctx.db.transaction(async (tx) => {
    const { endpoint, model } = await findDeployment(tx, caller.orgId, id, true);
    const minReplicas = parsed.min_replicas ?? endpoint.minReplicas;
    const maxReplicas = parsed.max_replicas ?? endpoint.maxReplicas;
    if (maxReplicas < minReplicas) {
      throw new InvalidRequestError('max_replicas: must be at least min_replicas.', {
        param: 'max_replicas',
      });
    }
    if (parsed.gpu_types || parsed.gpu_count) {
      const catalog = model?.slug ? await catalogModel(tx, model.slug) : null;
      const needsMemory = catalog ? catalog.gpu.memoryGb * catalog.model.gpuCount : null;
      await checkGpuChoice(
        tx,
        parsed.gpu_types ?? endpoint.gpuTypes,
        parsed.gpu_count ?? endpoint.gpuCount,
        needsMemory,
      );
    }
    const [row] = await tx
      .update(endpoints)
      .set({
        name: parsed.name,
        gpuTypes: parsed.gpu_types,
        gpuCount: parsed.gpu_count,
        minReplicas: parsed.min_replicas,
        maxReplicas: parsed.max_replicas,
        idleTimeoutSeconds: parsed.idle_timeout_seconds,
        concurrencyPerReplica: parsed.concurrency_per_replica,
        env: parsed.env,
        ...capColumns(parsed.spend_cap),
      })
      .where(eq(endpoints.id, endpoint.id))
      .returning();
    if (!row) throw notFound();
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'deployment.update',
      targetType: 'deployment',
      targetId: row.id,
      origin: ctx.origin,
      // Setting names only: env values may be secrets.
      metadata: { changed: Object.keys(parsed) },
    });
    return toDeploymentView(row, model);
  });
}

/** Stopped deployments answer inference with an error and scale to zero; starting resumes them. */
export async function setDeploymentState({
  ctx,
  id,
  state,
}: {
  ctx: ServiceContext;
  id: string;
  state: 'active' | 'stopped';
}) {
  const { caller } = authorize(ctx.caller, 'endpoint.manage');
  return ctx.db.transaction(async (tx) => {
    const { endpoint, model } = await findDeployment(tx, caller.orgId, id, true);
    const [row] = await tx.update(endpoints).set({ state }).where(eq(endpoints.id, endpoint.id)).returning();
    if (!row) throw notFound();
    if (endpoint.state !== state) {
      await recordAudit(tx, {
        orgId: caller.orgId,
        actor: auditActorOf(caller.actor),
        action: state === 'stopped' ? 'deployment.stop' : 'deployment.start',
        targetType: 'deployment',
        targetId: row.id,
        origin: ctx.origin,
      });
    }
    return toDeploymentView(row, model);
  });
}

/** Deletes the deployment: it stops, and its deployment keys stop working at once. */
export async function deleteDeployment({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<void> {
  const { caller } = authorize(ctx.caller, 'endpoint.manage');
  const now = ctx.clock.now();
  const hashes = await ctx.db.transaction(async (tx) => {
    const { endpoint } = await findDeployment(tx, caller.orgId, id, true);
    await tx.update(endpoints).set({ deletedAt: now, state: 'stopped' }).where(eq(endpoints.id, endpoint.id));
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.endpointId, endpoint.id), isNull(apiKeys.revokedAt)))
      .returning({ hash: apiKeys.hash });
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'deployment.delete',
      targetType: 'deployment',
      targetId: endpoint.id,
      origin: ctx.origin,
      metadata: { revokedKeys: revoked.length },
    });
    return revoked.map((key) => key.hash);
  });
  await cacheRevokedKeys(ctx, hashes);
}
