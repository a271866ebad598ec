import { and, asc, count, eq } from 'drizzle-orm';
import { gpuTypes, models } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { NotFoundError } from '../errors.ts';
import { MODEL_CATEGORIES, type ModelCategory } from './categories.ts';

const usd = (microUsd: number) => microUsd / 1_000_000;

export interface ModelView {
  id: string;
  object: 'model_card';
  slug: string;
  name: string;
  description: string;
  category: ModelCategory;
  engine: string;
  source: string;
  gpu: { slug: string; name: string; memory_gb: number; count: number };
  price_per_hour_usd: number;
  price_per_hour_micro_usd: number;
  context_length: number | null;
  billing: string;
}

const BILLING_NOTE = 'Billed per second of replica uptime, minimum 1 minute per replica start.';

const modelColumns = { model: models, gpu: gpuTypes };

function toModelView({
  model,
  gpu,
}: {
  model: typeof models.$inferSelect;
  gpu: typeof gpuTypes.$inferSelect;
}): ModelView {
  return {
    id: model.id,
    object: 'model_card',
    slug: model.slug,
    name: model.name,
    description: model.description,
    category: model.category,
    engine: model.engine,
    source: model.source,
    gpu: { slug: gpu.slug, name: gpu.name, memory_gb: gpu.memoryGb, count: model.gpuCount },
    price_per_hour_usd: usd(model.pricePerHourMicroUsd),
    price_per_hour_micro_usd: model.pricePerHourMicroUsd,
    context_length: model.contextLength,
    billing: BILLING_NOTE,
  };
}

/** Public catalog models, most popular first, optionally of one category. */
export async function listModels({
  ctx,
  category,
}: {
  ctx: ServiceContext;
  category?: ModelCategory | undefined;
}) {
  const rows = await ctx.db
    .select(modelColumns)
    .from(models)
    .innerJoin(gpuTypes, eq(gpuTypes.id, models.defaultGpuTypeId))
    .where(and(eq(models.public, true), category ? eq(models.category, category) : undefined))
    .orderBy(asc(models.popularity), asc(models.slug));
  return rows.map(toModelView);
}

export async function getModel({ ctx, slug }: { ctx: ServiceContext; slug: string }): Promise<ModelView> {
  const [row] = await ctx.db
    .select(modelColumns)
    .from(models)
    .innerJoin(gpuTypes, eq(gpuTypes.id, models.defaultGpuTypeId))
    .where(and(eq(models.slug, slug), eq(models.public, true)));
  if (!row) throw new NotFoundError(`No model '${slug}' in the catalog.`, { param: 'slug' });
  return toModelView(row);
}

/** Every category with how many public models it has (zero included, so the UI can show all tabs). */
export async function listCategories({ ctx }: { ctx: ServiceContext }) {
  const rows = await ctx.db
    .select({ category: models.category, models: count() })
    .from(models)
    .where(eq(models.public, true))
    .groupBy(models.category);
  const counts = new Map(rows.map((row) => [row.category, row.models]));
  return MODEL_CATEGORIES.map((category) => ({
    id: category,
    object: 'category' as const,
    models: counts.get(category) ?? 0,
  }));
}

export async function listGpus({ ctx }: { ctx: ServiceContext }) {
  const rows = await ctx.db
    .select()
    .from(gpuTypes)
    .where(eq(gpuTypes.available, true))
    .orderBy(asc(gpuTypes.memoryGb), asc(gpuTypes.slug));
  return rows.map((gpu) => ({
    id: gpu.slug,
    object: 'gpu' as const,
    name: gpu.name,
    vendor: gpu.vendor,
    memory_gb: gpu.memoryGb,
    price_per_hour_usd: {
      community: gpu.communityPricePerHourMicroUsd === null ? null : usd(gpu.communityPricePerHourMicroUsd),
      secure: gpu.securePricePerHourMicroUsd === null ? null : usd(gpu.securePricePerHourMicroUsd),
    },
    aws_instance_type: gpu.awsInstanceType,
  }));
}
