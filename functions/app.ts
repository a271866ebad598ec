import { requestId } from 'hono/request-id';
import { apiKeysRouter } from './api/api-keys/index.ts';
import { auditRouter } from './api/audit/index.ts';
import { auth } from './api/auth/index.ts';
import { billingRouter } from './api/billing/index.ts';
import { stripeWebhook } from './api/billing/stripe-webhook.ts';
import { catalogRouter } from './api/catalog/index.ts';
import { deploymentsRouter } from './api/deployments/index.ts';
import { docsPage } from './api/docs.ts';
import { health } from './api/health/index.ts';
import { jobsRouter } from './api/jobs/index.ts';
import { orgsRouter } from './api/orgs/index.ts';
import { webhooksRouter } from './api/webhooks/index.ts';
import { ConfigurationError } from './core/errors.ts';
import { newId } from './core/ids.ts';
import { MAX_AUDIO_FILE_BYTES } from './core/inference/media-inputs.ts';
import { MAX_OUTPUT_BYTES } from './core/payloads/store.ts';
import { orchestrator } from './internal/orchestrator/index.ts';
import { webhooksInternal } from './internal/webhooks/index.ts';
import { workerApi } from './internal/worker/index.ts';
import { sameOriginForCookies } from './lib/auth/same-origin.ts';
import { describeCause, errorBody, responseHeadersFor, statusOf, toServiceError } from './lib/http-errors.ts';
import { init } from './lib/init.ts';
import { jsonBody, type UploadRoute } from './lib/json-body.ts';
import { createLogger } from './lib/logger.ts';
import { createRouter } from './lib/openapi.ts';
import { v1 } from './v1/index.ts';

export const API_VERSION = '0.1.0';

/** Management requests are small JSON documents; large uploads go to inference routes. */
const MAX_API_BODY_BYTES = 64 * 1024;
/** A worker's result goes to Redis in one request, and Upstash takes requests of up to 10 MB. */
const MAX_WORKER_BODY_BYTES = 8 * 1024 * 1024;
/** JSON inference bodies (long prompts, inline images); audio uploads get their own limit. */
const MAX_INFERENCE_BODY_BYTES = 8 * 1024 * 1024;
/** Audio for transcription arrives as multipart, as OpenAI takes it: a 25 MiB file plus its fields. */
const AUDIO_UPLOAD: UploadRoute = {
  method: 'POST',
  path: /^\/v1\/audio\/(transcriptions|translations)$/,
  contentType: /^multipart\/form-data\s*;/i,
  maxBytes: MAX_AUDIO_FILE_BYTES + 64 * 1024,
  expected: 'the audio as multipart/form-data (a `file` field and the request fields)',
};
/** Workers store generated images and audio as raw bytes. */
const WORKER_OUTPUT_UPLOAD: UploadRoute = {
  method: 'PUT',
  path: /^\/internal\/worker\/jobs\/[^/]+\/outputs\/[^/]+$/,
  contentType: /^(audio|image)\/[a-z0-9.+-]+$/i,
  maxBytes: MAX_OUTPUT_BYTES,
  expected: 'the file as raw bytes with an audio/* or image/* Content-Type',
};

/** Logs before the per-request logger exists (e.g. the configuration itself is broken). */
const fallbackLogger = createLogger('info');

export function createApp() {
  const app = createRouter();

  app.use('*', requestId({ headerName: 'x-request-id', generator: () => newId('request') }));
  app.use('*', async (c, next) => {
    await next();
    c.header('x-request-id', c.get('requestId'));
  });

  app.onError((thrown, c) => {
    const error = toServiceError(thrown);
    const status = statusOf(error.code);
    const logger = c.get('services')?.logger ?? fallbackLogger.child({ requestId: c.get('requestId') });
    if (status >= 500) {
      logger.error(error.message, { code: error.code, cause: describeCause(error.cause), path: c.req.path });
    }
    // Configuration problems are spelled out in development; production users see a generic 500.
    const hide = error instanceof ConfigurationError && c.env?.ENVIRONMENT === 'production';
    const message = hide ? 'The server is misconfigured. The operators have been alerted.' : error.message;
    for (const [name, value] of Object.entries(responseHeadersFor(error, new Date()))) c.header(name, value);
    return c.json(errorBody(error.code, message, error.param), status);
  });

  app.notFound((c) => c.json(errorBody('not_found', `Unknown route: ${c.req.method} ${c.req.path}`), 404));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'AI Cloud API',
      version: API_VERSION,
      description: 'Serverless GPU endpoints with an OpenAI-compatible API, billed per second of GPU time.',
    },
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`sk_live_…`, `sk_dep_…`) or an access token from `POST /api/auth/login`.',
  });
  app.get('/docs', (c) => c.html(docsPage('/openapi.json')));

  app.use('/health', init());
  app.use('/api/*', init());
  // JSON only: the only bodies a foreign page can send without a CORS preflight (forms, text/plain)
  // are refused here; sameOriginForCookies below refuses the rest of cross-site request forgery.
  app.use('/api/*', jsonBody(MAX_API_BODY_BYTES));
  // Workers report what the model produced: it is the job's to keep as it came, not refused.
  app.use('/internal/*', jsonBody(MAX_WORKER_BODY_BYTES, [WORKER_OUTPUT_UPLOAD], false));
  app.use('/v1/*', jsonBody(MAX_INFERENCE_BODY_BYTES, [AUDIO_UPLOAD]));
  app.use('/v1/*', init());
  app.use('/api/*', sameOriginForCookies());
  app.use('/v1/*', sameOriginForCookies());
  app.use('/internal/*', init());

  // One chain, so that `App` carries every route's types for the dashboard's `hc` client.
  return app
    .route('/health', health)
    .route('/api/auth/api-keys', apiKeysRouter)
    .route('/api/auth', auth)
    .route('/api/audit', auditRouter)
    .route('/api/billing', billingRouter)
    .route('/api/stripe', stripeWebhook)
    .route('/api/deployments', deploymentsRouter)
    .route('/api/jobs', jobsRouter)
    .route('/api/webhook-deliveries', webhooksRouter)
    .route('/api', catalogRouter)
    .route('/api', orgsRouter)
    .route('/v1', v1)
    .route('/internal/worker', workerApi)
    .route('/internal/webhooks', webhooksInternal)
    .route('/internal/orchestrator', orchestrator);
}

export type App = ReturnType<typeof createApp>;
