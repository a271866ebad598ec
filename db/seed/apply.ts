import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { gpuTypes, models } from '../schema/index.ts';
import { GPU_SEED, MODEL_SEED } from './catalog.ts';

/**
 * Upserts the catalog by slug. Safe to run on every start: ids of existing rows never change, so
 * endpoints keep pointing at their model.
 */
export async function seedCatalog<T extends PgQueryResultHKT>(db: PgDatabase<T>): Promise<void> {
  await db.transaction(async (tx) => {
    const gpuRows = await tx
      .insert(gpuTypes)
      .values(
        GPU_SEED.map((gpu) => ({
          slug: gpu.slug,
          name: gpu.name,
          vendor: gpu.vendor,
          memoryGb: gpu.memoryGb,
          awsInstanceType: gpu.awsInstanceType,
          capacityFamily: gpu.capacityFamily,
          communityPricePerHourMicroUsd: gpu.prices.community,
          securePricePerHourMicroUsd: gpu.prices.secure,
        })),
      )
      .onConflictDoUpdate({
        target: gpuTypes.slug,
        set: {
          name: sql`excluded.name`,
          vendor: sql`excluded.vendor`,
          memoryGb: sql`excluded.memory_gb`,
          awsInstanceType: sql`excluded.aws_instance_type`,
          capacityFamily: sql`excluded.capacity_family`,
          communityPricePerHourMicroUsd: sql`excluded.community_price_per_hour_micro_usd`,
          securePricePerHourMicroUsd: sql`excluded.secure_price_per_hour_micro_usd`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ id: gpuTypes.id, slug: gpuTypes.slug });
    const gpuIdBySlug = new Map(gpuRows.map((row) => [row.slug, row.id]));

    await tx
      .insert(models)
      .values(
        MODEL_SEED.map((model) => {
          const gpuId = gpuIdBySlug.get(model.gpu);
          if (!gpuId) throw new Error(`Catalog model ${model.slug} names unknown GPU ${model.gpu}`);
          return {
            slug: model.slug,
            name: model.name,
            description: model.description,
            category: model.category,
            engine: model.engine,
            source: model.source,
            defaultGpuTypeId: gpuId,
            gpuCount: model.gpuCount,
            pricePerHourMicroUsd: model.pricePerHourMicroUsd,
            contextLength: model.contextLength,
            popularity: model.popularity,
          };
        }),
      )
      .onConflictDoUpdate({
        target: models.slug,
        set: {
          name: sql`excluded.name`,
          description: sql`excluded.description`,
          category: sql`excluded.category`,
          engine: sql`excluded.engine`,
          source: sql`excluded.source`,
          defaultGpuTypeId: sql`excluded.default_gpu_type_id`,
          gpuCount: sql`excluded.gpu_count`,
          pricePerHourMicroUsd: sql`excluded.price_per_hour_micro_usd`,
          contextLength: sql`excluded.context_length`,
          popularity: sql`excluded.popularity`,
          updatedAt: sql`now()`,
        },
      });
  });
}
