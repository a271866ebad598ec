import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import { gpuTypes } from '../../../db/schema/index.ts';
import type { Transaction } from '../../lib/db.ts';
import { InvalidRequestError } from '../errors.ts';

/**
 * Checks a GPU preference list: every slug must be a GPU we sell, and each choice must hold the
 * model (its memory × GPU count at least what the catalog's default placement has).
 */
export async function checkGpuChoice(
  tx: Transaction,
  slugs: readonly string[],
  gpuCount: number,
  needsMemoryGb: number | null,
): Promise<void> {
  if (new Set(slugs).size !== slugs.length) {
    throw new InvalidRequestError('gpu_types: lists a GPU type twice.', { param: 'gpu_types' });
  }
  const rows = await tx
    .select({ slug: gpuTypes.slug, memoryGb: gpuTypes.memoryGb })
    .from(gpuTypes)
    // Deployments run on the secure tier: a GPU type without a price there is not one they can use.
    .where(
      and(
        inArray(gpuTypes.slug, [...slugs]),
        eq(gpuTypes.available, true),
        isNotNull(gpuTypes.securePricePerHourMicroUsd),
      ),
    );
  const known = new Map(rows.map((row) => [row.slug, row.memoryGb]));
  for (const slug of slugs) {
    const memory = known.get(slug);
    if (memory === undefined) {
      throw new InvalidRequestError(
        `gpu_types: '${slug}' is not an available GPU type (see GET /api/gpus).`,
        {
          param: 'gpu_types',
        },
      );
    }
    if (needsMemoryGb !== null && memory * gpuCount < needsMemoryGb) {
      throw new InvalidRequestError(
        `gpu_types: ${gpuCount} × ${slug} (${memory * gpuCount} GB) cannot hold this model, which needs ${needsMemoryGb} GB.`,
        { param: 'gpu_types' },
      );
    }
  }
}
