import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../context.ts';
import { InvalidRequestError, ServiceError } from '../core/errors.ts';
import { jsonTextProblem } from '../core/json-text.ts';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** A route that takes a file instead of JSON (an audio upload, a worker's generated image). */
export interface UploadRoute {
  method: 'POST' | 'PUT';
  path: RegExp;
  contentType: RegExp;
  maxBytes: number;
  /** What to tell a client that sent another type. */
  expected: string;
}

const tooLarge = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ServiceError('payload_too_large', `Request body is larger than ${maxBytes} bytes.`);
    },
  });

/**
 * Bodies are JSON and small, except on the few upload routes named here. Anything else is refused
 * before parsing: the bodies a foreign page can send without a CORS preflight (forms, text/plain)
 * never reach a JSON route (bodiless and upload requests are left to sameOriginForCookies).
 * With `checkText`, a body no store could keep (a NUL, a lone surrogate, absurd nesting) is a 400 here
 * rather than a failed write later; the text read is the one the route's validator then parses.
 */
export function jsonBody(
  maxBytes: number,
  uploads: UploadRoute[] = [],
  checkText = true,
): MiddlewareHandler<AppEnv> {
  const limit = tooLarge(maxBytes);
  const uploadLimits = uploads.map((upload) => ({ upload, limit: tooLarge(upload.maxBytes) }));
  return async (c, next) => {
    if (!WITH_BODY.has(c.req.method)) return next();
    const type = c.req.header('content-type');
    const route = uploadLimits.find(
      ({ upload }) => upload.method === c.req.method && upload.path.test(c.req.path),
    );
    if (route) {
      if (!route.upload.contentType.test(type ?? '')) {
        throw new ServiceError('unsupported_media_type', `Send ${route.upload.expected}.`);
      }
      return route.limit(c, next);
    }
    const hasBody = c.req.header('content-length') !== '0' && c.req.raw.body !== null;
    // A declared non-JSON type is refused even with an empty body: that is what a cross-site form sends.
    if ((hasBody || type !== undefined) && !/^application\/json\s*(;|$)/i.test(type ?? '')) {
      throw new ServiceError(
        'unsupported_media_type',
        'Send the request body as JSON with "Content-Type: application/json".',
      );
    }
    if (!hasBody || !checkText) return limit(c, next);
    return limit(c, async () => {
      const problem = jsonTextProblem(await c.req.text());
      if (problem) {
        const where = problem.param
          ? `${problem.param} ${problem.message}`
          : `The request body ${problem.message}`;
        throw new InvalidRequestError(`${where}, which is not accepted.`, { param: problem.param });
      }
      await next();
    });
  };
}
