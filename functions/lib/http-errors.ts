import { DrizzleQueryError } from 'drizzle-orm/errors';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  DependencyUnavailableError,
  type ErrorCode,
  InvalidRequestError,
  NoCapacityError,
  RateLimitedError,
  ServiceError,
} from '../core/errors.ts';
import { rateLimitHeaders } from './ratelimit.ts';

/** OpenAI's error body: the one shape every error of every route is rendered in. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** The one table from error code to HTTP status and OpenAI error `type`. */
const STATUS_TABLE: Record<ErrorCode, { status: ContentfulStatusCode; type: string }> = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  insufficient_quota: { status: 402, type: 'insufficient_quota' },
  forbidden: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  timeout: { status: 408, type: 'timeout_error' },
  conflict: { status: 409, type: 'conflict_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  internal: { status: 500, type: 'server_error' },
  engine_error: { status: 500, type: 'server_error' },
  deadline_exceeded: { status: 504, type: 'timeout_error' },
  invalid_configuration: { status: 500, type: 'server_error' },
  service_unavailable: { status: 503, type: 'service_unavailable_error' },
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return STATUS_TABLE[code].status;
}

export function errorBody(code: ErrorCode, message: string, param: string | null = null): ErrorBody {
  return { error: { message, type: STATUS_TABLE[code].type, param, code } };
}

/** PostgreSQL SQLSTATE classes that mean "cannot talk to the database" rather than "bad query". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/;

function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 8 && current instanceof Error && current.cause !== undefined; depth++) {
    current = current.cause;
  }
  return current;
}

/** Hono's own rejections (malformed JSON, body limit) carry a status; keep it, in our shape. */
const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** untranslatable_character, character_not_in_repertoire. */
const UNSTORABLE_TEXT_SQLSTATE = new Set(['22P05', '22021']);

const sqlStateOf = (cause: unknown) =>
  cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string' ? cause.code : null;

/**
 * Turns anything thrown into a ServiceError. A failed database query whose cause is not a SQL error (no
 * SQLSTATE), or is a connection-class one, is an outage: 503 naming the database. A unique violation
 * is two requests racing for the same thing: 409; text Postgres cannot hold is the caller's: 400.
 */
export function toServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) return new ServiceError(code, error.message || 'Invalid request.', { cause: error });
  }
  if (error instanceof DrizzleQueryError) {
    const sqlState = sqlStateOf(rootCause(error));
    if (!sqlState || !/^[0-9A-Z]{5}$/.test(sqlState) || UNAVAILABLE_SQLSTATE.test(sqlState)) {
      return new DependencyUnavailableError('db', { cause: error });
    }
    // Text Postgres cannot hold (a NUL character, an invalid byte sequence) in a value the caller sent
    // on a path the body check does not cover, such as a multipart field. Other data exceptions (a
    // number out of range, a bad cast) may be this code's own fault and stay 500s.
    if (UNSTORABLE_TEXT_SQLSTATE.has(sqlState)) {
      return new InvalidRequestError('The request holds text that cannot be stored (a NUL character).', {
        cause: error,
      });
    }
    if (sqlState === '23505') {
      return new ServiceError('conflict', 'This conflicts with a change made at the same time. Retry.', {
        cause: error,
        retryable: true,
      });
    }
  }
  return new ServiceError('internal', 'The server had an error while processing your request.', {
    cause: error,
  });
}

/**
 * The OpenAI SDKs retry 408, 409 and every 5xx on their own. Ours are final unless said otherwise: a
 * job that was cancelled, a stopped deployment or a reused Idempotency-Key stays so; a queue timeout
 * or a job past its deadline already used the time the caller's Cancel-After allowed; a model server
 * that failed a request (or a job that kept killing its workers) fails it again as often as not.
 * Sent again, each would run (and bill) anew, so retrying is the caller's choice, not the SDK's.
 */
const FINAL_CODES = new Set<ErrorCode>(['conflict', 'timeout', 'deadline_exceeded', 'engine_error']);

function waitHeaders(error: ServiceError, now: Date): Record<string, string> {
  if (error instanceof RateLimitedError) {
    return {
      'retry-after': String(error.retryAfterSeconds),
      ...(error.window ? rateLimitHeaders(error.window, now) : {}),
    };
  }
  if (error instanceof DependencyUnavailableError) return { 'retry-after': '5' };
  if (error instanceof NoCapacityError) return { 'retry-after': String(error.retryAfterSeconds) };
  return {};
}

export function responseHeadersFor(error: ServiceError, now: Date): Record<string, string> {
  const retry = error.retryable ?? (FINAL_CODES.has(error.code) ? false : undefined);
  return { ...waitHeaders(error, now), ...(retry === undefined ? {} : { 'x-should-retry': String(retry) }) };
}

/**
 * What may be logged about an error's cause. A failed query's text is kept but never its parameters,
 * which can hold password hashes, token hashes and email addresses.
 */
export function describeCause(cause: unknown): string {
  if (cause instanceof DrizzleQueryError) {
    const root = rootCause(cause);
    const detail = sqlStateOf(root) ?? (root instanceof Error ? root.message : String(root));
    return `query failed (${detail}): ${cause.query}`;
  }
  if (cause === undefined || cause === null) return '';
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
