import { type AnyColumn, and, eq, isNull, or, type Placeholder, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import {
  apiKeys,
  endpoints,
  gpuTypes,
  models,
  orgBalances,
  spendCounters,
} from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Database } from '../../lib/db.ts';
import { formatUsd } from '../billing/amounts.ts';
import { apiKeySubject, capMessage, capReached, endpointSubject, spendPeriods } from '../billing/caps.ts';
import { replicaPriceMicroUsd } from '../billing/replica-price.ts';
import type { Engine } from '../compute.ts';
import { ConflictError, InsufficientQuotaError, InvalidRequestError, NotFoundError } from '../errors.ts';
import { isId } from '../ids.ts';
import type { JobKind } from '../jobs/states.ts';
import { authorizeInference } from '../orgs/authorize.ts';

export interface InferenceTarget {
  orgId: string;
  endpointId: string;
  engine: string;
  /** What the caller called it: echoed in responses as `model`. */
  modelName: string;
  /** Per replica-hour, for the per-request cost estimate in response headers. */
  pricePerHourMicroUsd: number;
  apiKeyId: string | null;
  /** Jobs one replica runs at once: how deep a queue one replica absorbs. */
  concurrencyPerReplica: number;
}

/** What each catalog engine serves; a custom image may serve any of them. */
const ENGINE_KINDS: Record<Engine, readonly JobKind[]> = {
  vllm: ['chat.completion', 'completion', 'embedding'],
  whisper: ['audio.transcription'],
  diffusers: ['image.generation'],
  tts: ['audio.speech'],
};

const KIND_NAMES: Record<JobKind, string> = {
  'chat.completion': 'chat completions',
  completion: 'text completions',
  embedding: 'embeddings',
  'audio.transcription': 'audio transcriptions',
  'audio.speech': 'speech',
  'image.generation': 'image generation',
};

const notFound = (model: string) =>
  new NotFoundError(`The model '${model}' does not exist or you do not have access to it.`, {
    param: 'model',
  });

/**
 * The endpoint a request names, with what admitting it needs in the same round trip: the org's
 * balance, the key's caps, and today's and this month's spend of the endpoint and the key. Built with
 * placeholders (`orgId`, `keyId`, `keySubject`, `day`, `month`, `model`), to be prepared once per isolate.
 * `by`: the endpoint's id, or a name (a deployment's own name or its catalog model's slug).
 */
function targetQuery(db: Database, by: 'id' | 'name') {
  const endpointDay = alias(spendCounters, 'endpoint_day');
  const endpointMonth = alias(spendCounters, 'endpoint_month');
  const keyDay = alias(spendCounters, 'key_day');
  const keyMonth = alias(spendCounters, 'key_month');
  const endpointCounter = sql`${endpointSubject('')} || ${endpoints.id}`;
  const keyCounter = sql.placeholder('keySubject');
  const counterOf = (
    table: { subject: AnyColumn; period: AnyColumn },
    subject: SQL | Placeholder,
    period: string,
  ) => and(eq(table.subject, subject), eq(table.period, sql.placeholder(period)));
  const model = sql.placeholder('model');
  return (
    db
      .select({
        endpoint: endpoints,
        model: {
          slug: models.slug,
          engine: models.engine,
          pricePerHourMicroUsd: models.pricePerHourMicroUsd,
          defaultGpuTypeId: models.defaultGpuTypeId,
          gpuCount: models.gpuCount,
        },
        gpu: { id: gpuTypes.id, securePricePerHourMicroUsd: gpuTypes.securePricePerHourMicroUsd },
        balance: orgBalances.balanceMicroUsd,
        key: {
          spendCapDailyMicroUsd: apiKeys.spendCapDailyMicroUsd,
          spendCapMonthlyMicroUsd: apiKeys.spendCapMonthlyMicroUsd,
        },
        spend: {
          endpointDay: endpointDay.spendMicroUsd,
          endpointMonth: endpointMonth.spendMicroUsd,
          keyDay: keyDay.spendMicroUsd,
          keyMonth: keyMonth.spendMicroUsd,
        },
      })
      .from(endpoints)
      .leftJoin(orgBalances, eq(orgBalances.orgId, endpoints.orgId))
      .leftJoin(apiKeys, eq(apiKeys.id, sql.placeholder('keyId')))
      .leftJoin(endpointDay, counterOf(endpointDay, endpointCounter, 'day'))
      .leftJoin(endpointMonth, counterOf(endpointMonth, endpointCounter, 'month'))
      .leftJoin(keyDay, counterOf(keyDay, keyCounter, 'day'))
      .leftJoin(keyMonth, counterOf(keyMonth, keyCounter, 'month'))
      .leftJoin(models, eq(models.id, endpoints.modelId))
      // Priced by the first-choice GPU (a catalog model's own price when it is the catalog's placement).
      .leftJoin(gpuTypes, eq(gpuTypes.slug, sql`${endpoints.gpuTypes}[1]`))
      .where(
        and(
          eq(endpoints.orgId, sql.placeholder('orgId')),
          isNull(endpoints.deletedAt),
          by === 'id' ? eq(endpoints.id, model) : or(eq(endpoints.name, model), eq(models.slug, model)),
        ),
      )
      .limit(2)
  );
}

/**
 * Which endpoint a request runs on. A deployment key is bound to one endpoint (its `model` is only
 * echoed); an account key or session names one of the org's deployments by id or name.
 */
export async function resolveTarget(
  ctx: ServiceContext,
  model: string,
  kind: JobKind,
): Promise<InferenceTarget> {
  const { caller, boundEndpointId: bound } = authorizeInference(ctx.caller);
  const { actor } = caller;
  const keyId = actor.type === 'api_key' ? actor.keyId : null;
  const periods = spendPeriods(ctx.clock.now());
  const by = bound || isId('endpoint', model) ? 'id' : 'name';
  const rows = await ctx.prepared
    .statement(`inference_target_by_${by}`, (db) => targetQuery(db, by))
    .execute({
      orgId: caller.orgId,
      model: bound ?? model,
      keyId: keyId ?? '',
      keySubject: apiKeySubject(keyId ?? ''),
      day: periods.day,
      month: periods.month,
    });
  // A name two deployments answer to (two copies of one catalog model) names neither for sure.
  if (rows.length > 1) {
    throw new InvalidRequestError(
      `The model '${model}' names more than one of your deployments: use the deployment's id (ep_…) or its own name.`,
      { param: 'model' },
    );
  }
  if (!rows[0]) throw notFound(model);
  const { endpoint, model: catalog, gpu, balance, key, spend } = rows[0];
  if (endpoint.state === 'stopped') {
    throw new ConflictError(`The deployment '${endpoint.name}' is stopped. Start it to send requests.`);
  }
  // Prepaid: at zero the org's endpoints scale to zero and new work is refused until a top-up.
  if ((balance ?? 0) <= 0) {
    throw new InsufficientQuotaError(
      `Your balance is ${formatUsd(balance ?? 0)}. Add funds (or turn on auto-refill) to send requests.`,
    );
  }
  const endpointCap = capReached(endpoint, {
    day: spend?.endpointDay ?? 0,
    month: spend?.endpointMonth ?? 0,
  });
  if (endpointCap) throw new InsufficientQuotaError(capMessage('This deployment', endpointCap, endpoint));
  const keyCaps = {
    spendCapDailyMicroUsd: key?.spendCapDailyMicroUsd ?? null,
    spendCapMonthlyMicroUsd: key?.spendCapMonthlyMicroUsd ?? null,
  };
  const keyCap = capReached(keyCaps, { day: spend?.keyDay ?? 0, month: spend?.keyMonth ?? 0 });
  if (keyCap) throw new InsufficientQuotaError(capMessage('This API key', keyCap, keyCaps));
  if (catalog && !ENGINE_KINDS[catalog.engine].includes(kind)) {
    throw new InvalidRequestError(
      `The model '${model}' (${catalog.slug}) does not serve ${KIND_NAMES[kind]}; it serves ${ENGINE_KINDS[catalog.engine].map((served) => KIND_NAMES[served]).join(', ')}.`,
      { param: 'model' },
    );
  }
  return {
    orgId: caller.orgId,
    endpointId: endpoint.id,
    engine: catalog?.engine ?? 'vllm',
    modelName: model,
    // Priced by the first-choice GPU; a job run elsewhere is repriced by the replica that finishes it.
    pricePerHourMicroUsd: replicaPriceMicroUsd(
      catalog,
      gpu ?? { id: '', securePricePerHourMicroUsd: null },
      endpoint.gpuCount,
    ),
    apiKeyId: actor.type === 'api_key' ? actor.keyId : null,
    concurrencyPerReplica: endpoint.concurrencyPerReplica,
  };
}
