import { createRoute, z } from '@hono/zod-openapi';
import { createApiKey, createApiKeyInput } from '../../core/api-keys/create.ts';
import {
  getApiKey,
  listApiKeys,
  regenerateApiKey,
  revokeApiKey,
  updateApiKey,
  updateApiKeyInput,
} from '../../core/api-keys/manage.ts';
import { authenticatedRouter } from '../../lib/openapi.ts';
import {
  authErrors,
  bearerSecurity,
  jsonRequest,
  jsonResponse,
  listQuery,
  queryText,
  SpendCapSchema,
} from '../schemas.ts';

const tags = ['API keys'];

const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: 'key_2ZkQ8pV7nT4sW9xY3bC1dE' }),
    object: z.literal('api_key'),
    name: z.string(),
    kind: z.enum(['account', 'deployment']),
    role: z.string().nullable(),
    endpoint_id: z.string().nullable(),
    prefix: z.string().openapi({ example: 'sk_live_Ab3d' }),
    last_four: z.string().openapi({ example: 'x9Qz' }),
    rate_limit_per_minute: z.number().nullable(),
    spend_cap: SpendCapSchema,
    created_by_user_id: z
      .string()
      .nullable()
      .openapi({ description: 'The user who made the key (keys made by a key count as its maker’s)' }),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: 'The secret. Shown once: store it now.', example: 'sk_live_…' }),
}).openapi('CreatedApiKey');

const ApiKeyListSchema = z
  .object({ data: z.array(ApiKeySchema), has_more: z.boolean() })
  .openapi('ApiKeyList');

const IdParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'key_2ZkQ8pV7nT4sW9xY3bC1dE' }),
});

export const apiKeysRouter = authenticatedRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create an API key',
      description:
        "`account` keys (`sk_live_…`) act in the org with a role no higher than the creator's; `deployment` keys (`sk_dep_…`) may only call inference on one endpoint. The secret is returned once and stored only as a hash.",
      security: bearerSecurity,
      request: jsonRequest(createApiKeyInput.openapi('CreateApiKeyRequest')),
      responses: { 201: jsonResponse('Created; the secret is in `key`', CreatedApiKeySchema), ...authErrors },
    }),
    async (c) => {
      const created = await createApiKey({ ctx: c.get('services'), input: c.req.valid('json') });
      c.header('cache-control', 'no-store');
      return c.json(created, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List API keys',
      description: 'Newest first. Keys are listed by prefix and last four characters only.',
      security: bearerSecurity,
      request: {
        query: listQuery('apiKey').extend({
          kind: z.enum(['account', 'deployment']).optional(),
          endpoint_id: queryText().optional(),
          include_revoked: z.enum(['true', 'false']).optional(),
        }),
      },
      responses: { 200: jsonResponse('A page of keys', ApiKeyListSchema), ...authErrors },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const page = await listApiKeys({
        ctx: c.get('services'),
        input: {
          limit: query.limit,
          after: query.after,
          kind: query.kind,
          endpointId: query.endpoint_id,
          includeRevoked: query.include_revoked === 'true',
        },
      });
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get an API key',
      security: bearerSecurity,
      request: { params: IdParams },
      responses: {
        200: jsonResponse(
          'The key, with what its requests spent today and this month',
          ApiKeySchema.extend({ spend: z.object({ today_usd: z.number(), month_usd: z.number() }) }).openapi(
            'ApiKeyWithSpend',
          ),
        ),
        ...authErrors,
      },
    }),
    async (c) => c.json(await getApiKey({ ctx: c.get('services'), id: c.req.valid('param').id }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags,
      summary: "Rename an API key or set its spend caps (per UTC day / month, on its requests' GPU time)",
      security: bearerSecurity,
      request: { params: IdParams, ...jsonRequest(updateApiKeyInput.openapi('UpdateApiKey')) },
      responses: { 200: jsonResponse('The key', ApiKeySchema), ...authErrors },
    }),
    async (c) =>
      c.json(
        await updateApiKey({
          ctx: c.get('services'),
          id: c.req.valid('param').id,
          input: c.req.valid('json'),
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Revoke an API key',
      description: 'Takes effect immediately (within 30 seconds at most, the lifetime of the key cache).',
      security: bearerSecurity,
      request: { params: IdParams },
      responses: { 200: jsonResponse('The revoked key', ApiKeySchema), ...authErrors },
    }),
    async (c) => c.json(await revokeApiKey({ ctx: c.get('services'), id: c.req.valid('param').id }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{id}/regenerate',
      tags,
      summary: 'Replace an API key with a new secret',
      description:
        'The new key keeps the name, kind, role, endpoint and limits; the old secret stops working.',
      security: bearerSecurity,
      request: { params: IdParams },
      responses: {
        201: jsonResponse('The replacement; the secret is in `key`', CreatedApiKeySchema),
        ...authErrors,
      },
    }),
    async (c) => {
      const created = await regenerateApiKey({ ctx: c.get('services'), id: c.req.valid('param').id });
      c.header('cache-control', 'no-store');
      return c.json(created, 201);
    },
  );
