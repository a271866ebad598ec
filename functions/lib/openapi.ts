import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { InvalidRequestError } from '../core/errors.ts';

/**
 * Every sub-app is built here so that request validation failures are rendered by the one error
 * handler, in the one shape, naming the offending field as OpenAI's `param`.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const issue = result.error.issues[0];
      const param = issue && issue.path.length > 0 ? issue.path.join('.') : null;
      const message = issue ? `${param ? `${param}: ` : ''}${issue.message}` : 'Invalid request.';
      throw new InvalidRequestError(message, { param });
    },
  });
}
