import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { InvalidRequestError } from '../core/errors.ts';
import { authenticate } from './auth/authenticate.ts';

/**
 * Every sub-app is built here so that request validation failures are rendered by the one error
 * handler, in the one shape, naming the offending field as OpenAI's `param`.
 */
export function createRouter<E extends AppEnv = AppEnv>() {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (result.success) return;
      const issue = result.error.issues[0];
      if (issue?.code === 'unrecognized_keys') {
        // OpenAI's wording, which SDK users recognise.
        const path = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
        throw new InvalidRequestError(`Unrecognized request argument supplied: ${issue.keys.join(', ')}`, {
          param: `${path}${issue.keys[0] ?? ''}`,
        });
      }
      const param = issue && issue.path.length > 0 ? issue.path.join('.') : null;
      const message = issue ? `${param ? `${param}: ` : ''}${issue.message}` : 'Invalid request.';
      throw new InvalidRequestError(message, { param });
    },
  });
}

/**
 * A sub-app whose routes under `paths` need a credential (an API key or a session). The middleware
 * is registered before any route, and the router itself is returned, so the routes chained after it
 * keep their types for the dashboard's `hc` client (`.use()` would return a plain Hono type).
 */
export function authenticatedRouter(paths: readonly string[] = ['*']) {
  const router = createRouter();
  for (const path of paths) router.use(path, authenticate());
  return router;
}
