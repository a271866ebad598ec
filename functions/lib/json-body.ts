import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../context.ts';
import { ServiceError } from '../core/errors.ts';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** The management API takes JSON only, and small bodies: anything else is refused before parsing. */
export function jsonBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ServiceError('payload_too_large', `Request body is larger than ${maxBytes} bytes.`);
    },
  });
  return async (c, next) => {
    if (!WITH_BODY.has(c.req.method)) return next();
    const hasBody = c.req.header('content-length') !== '0' && c.req.raw.body !== null;
    const type = c.req.header('content-type');
    // A declared non-JSON type is refused even with an empty body: that is what a cross-site form sends.
    if ((hasBody || type !== undefined) && !/^application\/json\s*(;|$)/i.test(type ?? '')) {
      throw new ServiceError(
        'unsupported_media_type',
        'Send the request body as JSON with "Content-Type: application/json".',
      );
    }
    return limit(c, next);
  };
}
