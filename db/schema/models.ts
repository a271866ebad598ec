import { bigint, boolean, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { prefixedId, timestamps } from './columns.ts';
import { engineEnum, modelCategoryEnum } from './enums.ts';
import { gpuTypes } from './gpu-types.ts';

/** The catalog: models a user can deploy in one click. */
export const models = pgTable(
  'models',
  {
    id: prefixedId('model'),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    category: modelCategoryEnum('category').notNull(),
    engine: engineEnum('engine').notNull(),
    /** Weights reference, e.g. a Hugging Face repository. */
    source: text('source').notNull(),
    defaultGpuTypeId: text('default_gpu_type_id')
      .notNull()
      .references(() => gpuTypes.id),
    gpuCount: integer('gpu_count').notNull().default(1),
    /** What the catalog displays and bills per hour of replica uptime on the default GPU. */
    pricePerHourMicroUsd: bigint('price_per_hour_micro_usd', { mode: 'number' }).notNull(),
    contextLength: integer('context_length'),
    /** Lower sorts first in "popular" lists. */
    popularity: integer('popularity').notNull().default(100),
    public: boolean('public').notNull().default(true),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('models_slug_key').on(t.slug),
    index('models_category_idx').on(t.category, t.popularity),
  ],
);
