import { ServiceError } from '../../core/errors.ts';
import type { PayloadStore } from '../../core/payloads/store.ts';

/** The part of Workers' `R2Bucket` binding the platform uses (wrangler.toml `[[r2_buckets]]` PAYLOADS). */
export interface R2BucketBinding {
  put(
    key: string,
    value: ArrayBuffer | Uint8Array | Blob,
    options?: { httpMetadata?: { contentType?: string } },
  ): Promise<unknown>;
  get(key: string): Promise<{
    body: ReadableStream<Uint8Array>;
    size: number;
    httpMetadata?: { contentType?: string };
  } | null>;
  delete(key: string): Promise<void>;
}

const isBucket = (value: unknown): value is R2BucketBinding =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as R2BucketBinding).put === 'function' &&
  typeof (value as R2BucketBinding).get === 'function';

/**
 * The payload store over the PAYLOADS bucket binding. Without the binding (a worker deployed without
 * it) every call says so, naming the binding, instead of failing somewhere deep.
 */
export function createPayloadStore(binding: unknown): PayloadStore {
  if (!isBucket(binding)) {
    const missing = (): never => {
      throw new ServiceError(
        'invalid_configuration',
        'Payload storage is not configured: bind an R2 bucket as PAYLOADS (wrangler.toml [[r2_buckets]]).',
      );
    };
    return { put: missing, get: missing, delete: missing };
  }
  return {
    async put(key, body, contentType) {
      await binding.put(key, body, { httpMetadata: { contentType } });
    },
    async get(key) {
      const object = await binding.get(key);
      if (!object) return null;
      return {
        body: object.body,
        size: object.size,
        contentType: object.httpMetadata?.contentType ?? 'application/octet-stream',
      };
    },
    async delete(key) {
      await binding.delete(key);
    },
  };
}
