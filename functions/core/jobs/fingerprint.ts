import { sha256Hex } from '../auth/secrets.ts';
import type { JobKind } from './states.ts';

/**
 * What makes a retry "the same request" under one Idempotency-Key: the kind and the validated input.
 * A key sent again with anything else is another request, refused rather than answered with the first.
 */
export const requestFingerprint = (kind: JobKind, input: unknown) =>
  sha256Hex(`${kind}\n${JSON.stringify(input)}`);
