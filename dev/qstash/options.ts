import type { IncomingHttpHeaders } from 'node:http';
import { evaluateRetryDelay, parseDuration } from './durations.ts';

export const DEFAULT_RETRIES = 3;
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const MAX_RETRIES = 20;

export class PublishError extends Error {
  override name = 'PublishError';
}

export interface PublishOptions {
  method: string;
  header: Record<string, string>;
  contentType: string | null;
  retries: number;
  retryDelay: string | null;
  delayMs: number;
  notBefore: number | null;
  timeoutMs: number;
  callback: string | null;
  failureCallback: string | null;
  deduplicationId: string | null;
  contentBasedDeduplication: boolean;
}

const header = (headers: IncomingHttpHeaders, name: string): string | null => {
  const value = headers[name.toLowerCase()];
  return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] ?? null) : null;
};

export function validUrl(value: string, what: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // fall through
  }
  throw new PublishError(`invalid ${what}: ${value}`);
}

/** Reads QStash's `Upstash-*` request headers, refusing malformed values as QStash does (400). */
export function parsePublishOptions(headers: IncomingHttpHeaders): PublishOptions {
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('upstash-forward-') && typeof value === 'string') {
      forwarded[name.slice('upstash-forward-'.length)] = value;
    }
  }
  const retriesHeader = header(headers, 'Upstash-Retries');
  const retries = retriesHeader === null ? DEFAULT_RETRIES : Number(retriesHeader);
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new PublishError(`Upstash-Retries must be an integer from 0 to ${MAX_RETRIES}`);
  }
  const retryDelay = header(headers, 'Upstash-Retry-Delay');
  if (retryDelay !== null) {
    try {
      evaluateRetryDelay(retryDelay, 1);
    } catch (error) {
      throw new PublishError((error as Error).message);
    }
  }
  const delayHeader = header(headers, 'Upstash-Delay');
  const delayMs = delayHeader === null ? 0 : parseDuration(delayHeader);
  if (delayMs === null) throw new PublishError(`invalid Upstash-Delay: ${delayHeader}`);
  const notBeforeHeader = header(headers, 'Upstash-Not-Before');
  const notBefore = notBeforeHeader === null ? null : Number(notBeforeHeader) * 1000;
  if (notBefore !== null && !Number.isFinite(notBefore)) throw new PublishError('invalid Upstash-Not-Before');
  const timeoutHeader = header(headers, 'Upstash-Timeout');
  const timeoutMs = timeoutHeader === null ? DEFAULT_TIMEOUT_MS : parseDuration(timeoutHeader);
  if (timeoutMs === null || timeoutMs <= 0)
    throw new PublishError(`invalid Upstash-Timeout: ${timeoutHeader}`);
  const method = (header(headers, 'Upstash-Method') ?? 'POST').toUpperCase();
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) {
    throw new PublishError(`invalid Upstash-Method: ${method}`);
  }
  const callback = header(headers, 'Upstash-Callback');
  const failureCallback = header(headers, 'Upstash-Failure-Callback');
  return {
    method,
    header: forwarded,
    contentType: header(headers, 'Content-Type'),
    retries,
    retryDelay,
    delayMs,
    notBefore,
    timeoutMs,
    callback: callback === null ? null : validUrl(callback, 'Upstash-Callback'),
    failureCallback: failureCallback === null ? null : validUrl(failureCallback, 'Upstash-Failure-Callback'),
    deduplicationId: header(headers, 'Upstash-Deduplication-Id'),
    contentBasedDeduplication: header(headers, 'Upstash-Content-Based-Deduplication') === 'true',
  };
}
