import { createRoute, z } from '@hono/zod-openapi';
import { MODEL_CATEGORIES } from '../../core/catalog/categories.ts';
import { getModel, listCategories, listGpus, listModels } from '../../core/catalog/read.ts';
import { createRouter } from '../../lib/openapi.ts';
import { ErrorSchema, jsonResponse } from '../schemas.ts';

const tags = ['Catalog'];

const ModelCardSchema = z
  .object({
    id: z.string(),
    object: z.literal('model_card'),
    slug: z.string().openapi({ example: 'llama-3.1-8b-instruct' }),
    name: z.string(),
    description: z.string(),
    category: z.enum(MODEL_CATEGORIES),
    engine: z.string(),
    source: z.string().openapi({ example: 'meta-llama/Llama-3.1-8B-Instruct' }),
    gpu: z.object({ slug: z.string(), name: z.string(), memory_gb: z.number(), count: z.number() }),
    price_per_hour_usd: z.number().openapi({ example: 1.01 }),
    price_per_hour_micro_usd: z.number().int(),
    context_length: z.number().nullable(),
    billing: z.string(),
  })
  .openapi('ModelCard');

const GpuSchema = z
  .object({
    id: z.string().openapi({ example: 'a10g' }),
    object: z.literal('gpu'),
    name: z.string(),
    vendor: z.string(),
    memory_gb: z.number(),
    price_per_hour_usd: z.object({ community: z.number().nullable(), secure: z.number().nullable() }),
    aws_instance_type: z.string().nullable(),
  })
  .openapi('Gpu');

const cacheable = 'public, max-age=60';

/** The catalog is public: browsing models and prices needs no account. */
export const catalogRouter = createRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/models',
      tags,
      summary: 'Catalog models',
      description:
        'Most popular first. Prices are per hour of replica uptime on the default GPU, billed per second.',
      request: { query: z.object({ category: z.enum(MODEL_CATEGORIES).optional() }) },
      responses: {
        200: jsonResponse('Models', z.object({ data: z.array(ModelCardSchema) }).openapi('ModelCardList')),
        400: jsonResponse('Unknown category', ErrorSchema),
      },
    }),
    async (c) => {
      c.header('cache-control', cacheable);
      return c.json(
        { data: await listModels({ ctx: c.get('services'), category: c.req.valid('query').category }) },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/models/categories',
      tags,
      summary: 'Model categories with their model counts',
      responses: {
        200: jsonResponse(
          'Categories',
          z
            .object({
              data: z.array(
                z.object({ id: z.enum(MODEL_CATEGORIES), object: z.literal('category'), models: z.number() }),
              ),
            })
            .openapi('CategoryList'),
        ),
      },
    }),
    async (c) => {
      c.header('cache-control', cacheable);
      return c.json({ data: await listCategories({ ctx: c.get('services') }) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/models/{slug}',
      tags,
      summary: 'One catalog model',
      request: {
        params: z.object({
          slug: z
            .string()
            .max(100)
            .regex(/^[a-z0-9][a-z0-9.-]*$/, 'is not a model slug')
            .openapi({ param: { name: 'slug', in: 'path' }, example: 'llama-3.1-8b-instruct' }),
        }),
      },
      responses: {
        200: jsonResponse('The model', ModelCardSchema),
        404: jsonResponse('No such model', ErrorSchema),
      },
    }),
    async (c) => {
      c.header('cache-control', cacheable);
      return c.json(await getModel({ ctx: c.get('services'), slug: c.req.valid('param').slug }), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/gpus',
      tags,
      summary: 'GPU types and their hourly prices',
      responses: { 200: jsonResponse('GPUs', z.object({ data: z.array(GpuSchema) }).openapi('GpuList')) },
    }),
    async (c) => {
      c.header('cache-control', cacheable);
      return c.json({ data: await listGpus({ ctx: c.get('services') }) }, 200);
    },
  );
