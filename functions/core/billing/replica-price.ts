import type { gpuTypes, models } from '../../../db/schema/index.ts';

/**
 * What one replica costs an hour (any unit: micro-dollars on the server, which rounds it to whole
 * ones, dollars in the dashboard).
 * A catalog model has its listed price on the placement the catalog gives it, its GPU type and count;
 * on any other placement (a GPU type the deployment chose or fell back to, more GPUs) it is billed for
 * the GPUs it runs on, as a custom image is, so a bigger machine is never had at a small model's price.
 * `gpu` identifies a GPU type the same way on both sides (slug or id).
 */
export function replicaPricePerHour(
  catalog: { gpu: string; gpuCount: number; pricePerHour: number } | null,
  placement: { gpu: string; gpuCount: number; gpuPricePerHour: number | null },
): number {
  if (catalog && catalog.gpu === placement.gpu && catalog.gpuCount === placement.gpuCount) {
    return catalog.pricePerHour;
  }
  // A GPU type with no price of its own (deployments refuse to choose one) costs what the catalog
  // charges per GPU.
  const perGpu = placement.gpuPricePerHour ?? (catalog ? catalog.pricePerHour / catalog.gpuCount : 0);
  return perGpu * placement.gpuCount;
}

/** A catalog model's placement and price, as its row holds them. */
type CatalogModel = Pick<
  typeof models.$inferSelect,
  'defaultGpuTypeId' | 'gpuCount' | 'pricePerHourMicroUsd'
>;

/**
 * The server's price of a replica: `replicaPricePerHour` for a catalog model's row (or a custom image,
 * null) on a GPU type (deployments run on its secure tier), in whole micro-dollars, as replica rows and jobs store it.
 */
export function replicaPriceMicroUsd(
  model: CatalogModel | null | undefined,
  gpu: Pick<typeof gpuTypes.$inferSelect, 'id' | 'securePricePerHourMicroUsd'>,
  gpuCount: number,
): number {
  return Math.round(
    replicaPricePerHour(
      model
        ? { gpu: model.defaultGpuTypeId, gpuCount: model.gpuCount, pricePerHour: model.pricePerHourMicroUsd }
        : null,
      { gpu: gpu.id, gpuCount, gpuPricePerHour: gpu.securePricePerHourMicroUsd },
    ),
  );
}
