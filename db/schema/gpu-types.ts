import { bigint, boolean, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { prefixedId, timestamps } from './columns.ts';

/**
 * GPU SKUs we sell. Prices are integer micro-dollars per GPU-hour so per-second billing never rounds
 * through floating point.
 */
export const gpuTypes = pgTable(
  'gpu_types',
  {
    id: prefixedId('gpuType'),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    vendor: text('vendor').notNull(),
    memoryGb: integer('memory_gb').notNull(),
    /** EC2 instance type that carries this GPU (one GPU's share of it), null when only community hosts offer it. */
    awsInstanceType: text('aws_instance_type'),
    /** ECS capacity provider family (g5, p4d, p4de, p5) or null when started directly on EC2 or community hosts. */
    capacityFamily: text('capacity_family'),
    communityPricePerHourMicroUsd: bigint('community_price_per_hour_micro_usd', { mode: 'number' }),
    securePricePerHourMicroUsd: bigint('secure_price_per_hour_micro_usd', { mode: 'number' }),
    available: boolean('available').notNull().default(true),
    ...timestamps(),
  },
  (t) => [uniqueIndex('gpu_types_slug_key').on(t.slug)],
);
