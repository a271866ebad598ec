import { describe, expect, it } from 'vitest';
import { replicaPricePerHour } from './replica-price.ts';

const llama8b = { gpu: 'a10g', gpuCount: 1, pricePerHour: 1_010_000 };

describe('replicaPricePerHour', () => {
  it('charges the catalog price on the catalog placement', () => {
    expect(replicaPricePerHour(llama8b, { gpu: 'a10g', gpuCount: 1, gpuPricePerHour: 1_010_000 })).toBe(
      1_010_000,
    );
  });

  it('charges the GPUs a catalog model runs on when they are not its catalog placement', () => {
    // Eight A100s chosen for a small model are eight A100s, not the model's one-A10G price.
    expect(replicaPricePerHour(llama8b, { gpu: 'a100-80gb', gpuCount: 8, gpuPricePerHour: 1_990_000 })).toBe(
      15_920_000,
    );
    expect(replicaPricePerHour(llama8b, { gpu: 'a10g', gpuCount: 2, gpuPricePerHour: 1_010_000 })).toBe(
      2_020_000,
    );
    // A cheaper GPU it may fall back to is cheaper for it too.
    expect(replicaPricePerHour(llama8b, { gpu: 'l4', gpuCount: 1, gpuPricePerHour: 800_000 })).toBe(800_000);
  });

  it('charges the catalog’s price per GPU on a GPU type that has no price of its own', () => {
    const llama70b = { gpu: 'a100-80gb', gpuCount: 2, pricePerHour: 3_980_000 };
    expect(replicaPricePerHour(llama70b, { gpu: 'h100-80gb', gpuCount: 4, gpuPricePerHour: null })).toBe(
      7_960_000,
    );
  });

  it('charges a custom image for its GPUs', () => {
    expect(replicaPricePerHour(null, { gpu: 'l4', gpuCount: 4, gpuPricePerHour: 800_000 })).toBe(3_200_000);
  });
});
