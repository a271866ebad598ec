/**
 * The one error taxonomy of the platform. Domain operations throw these; the edge renders every one of
 * them in OpenAI's error shape through a single status table (functions/lib/http-errors.ts).
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'insufficient_quota'
  | 'rate_limited'
  | 'timeout'
  | 'deadline_exceeded'
  | 'engine_error'
  | 'service_unavailable'
  | 'invalid_configuration'
  | 'internal';

export interface ServiceErrorOptions {
  /** The request field the error is about (OpenAI's `param`), e.g. `messages[0].content`. */
  param?: string | null;
  cause?: unknown;
  /**
   * Whether the same request sent again may succeed, told to clients as `x-should-retry` (the OpenAI
   * SDKs honour it). Unset: the client's own rule for the status.
   */
  retryable?: boolean;
}

export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly retryable: boolean | undefined;

  constructor(code: ErrorCode, message: string, options: ServiceErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.param = options.param ?? null;
    this.retryable = options.retryable;
  }
}

export class InvalidRequestError extends ServiceError {
  constructor(message: string, options?: ServiceErrorOptions) {
    super('invalid_request', message, options);
  }
}

export class UnauthorizedError extends ServiceError {
  constructor(message = 'Missing or invalid API key or session.', options?: ServiceErrorOptions) {
    super('unauthorized', message, options);
  }
}

export class ForbiddenError extends ServiceError {
  constructor(message = 'You do not have permission to do this.', options?: ServiceErrorOptions) {
    super('forbidden', message, options);
  }
}

export class NotFoundError extends ServiceError {
  constructor(message: string, options?: ServiceErrorOptions) {
    super('not_found', message, options);
  }
}

export class ConflictError extends ServiceError {
  constructor(message: string, options?: ServiceErrorOptions) {
    super('conflict', message, options);
  }
}

export class InsufficientQuotaError extends ServiceError {
  constructor(message = 'Your balance is exhausted. Add funds to continue.', options?: ServiceErrorOptions) {
    super('insufficient_quota', message, options);
  }
}

export class RateLimitedError extends ServiceError {
  readonly retryAfterSeconds: number;
  /** The limit that was hit, for `x-ratelimit-*` headers on the 429. */
  readonly window: { limit: number; remaining: number; reset: number } | null;

  constructor(
    retryAfterSeconds: number,
    message = 'Rate limit reached. Retry later.',
    window: RateLimitedError['window'] = null,
  ) {
    super('rate_limited', message);
    this.retryAfterSeconds = retryAfterSeconds;
    this.window = window;
  }
}

export type Dependency = 'db' | 'redis' | 'qstash' | 'compute' | 'stripe' | 'storage' | 'email';

/** A backing service (database, Redis, QStash, …) is unreachable or failing: the request gets a 503. */
export class DependencyUnavailableError extends ServiceError {
  readonly dependency: Dependency;

  constructor(dependency: Dependency, options?: ServiceErrorOptions) {
    super('service_unavailable', `The ${dependency} service is unavailable. Retry shortly.`, options);
    this.dependency = dependency;
  }
}

export class ConfigurationError extends ServiceError {
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super('invalid_configuration', `Invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.issues = issues;
  }
}

/** The job did not finish before its deadline: it is cancelled and the caller gets a 504. */
export class DeadlineExceededError extends ServiceError {
  constructor(seconds: number) {
    super(
      'deadline_exceeded',
      `The request did not complete within its ${seconds}-second deadline and was cancelled.`,
    );
  }
}

/**
 * The deadline passed before any replica took the job (no capacity: scaling up, or every replica
 * busy): a 408, so the caller can tell waiting for a GPU from a slow model (504).
 */
export class QueueTimeoutError extends ServiceError {
  constructor(seconds: number) {
    super(
      'timeout',
      `No replica started this request within its ${seconds}-second deadline, so it was cancelled. The deployment may be scaling up: retry, or allow more time with Cancel-After.`,
    );
  }
}

/**
 * The deadline passed while the deployment could not start a replica (no capacity on any of its GPU
 * types, or the provider failing): a 503 with `retry-after`, since waiting longer will not help now.
 */
export class NoCapacityError extends ServiceError {
  readonly retryAfterSeconds = 60;

  constructor(reason: string) {
    super(
      'service_unavailable',
      `No replica could be started for this deployment (${reason}), so the request was cancelled. Retry in a minute.`,
    );
  }
}

/** The model server failed the job (out of memory, bad weights, crash): reported as a server error. */
export class EngineError extends ServiceError {
  constructor(message: string) {
    super('engine_error', message);
  }
}
