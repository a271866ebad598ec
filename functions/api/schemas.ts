import { z } from '@hono/zod-openapi';
import { NO_NUL } from '../core/auth/inputs.ts';
import { ID_PREFIXES, type IdKind, isId } from '../core/ids.ts';

/** OpenAI's error body, the one shape of every error response. */
export const ErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string().openapi({ example: 'invalid_request_error' }),
      param: z.string().nullable(),
      code: z.string().nullable().openapi({ example: 'invalid_request' }),
    }),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

/** The error answers every authenticated route can give. */
export const authErrors = {
  400: errorResponse('Invalid request'),
  401: errorResponse('Missing, invalid, expired or revoked credential'),
  403: errorResponse('The role or key kind does not allow this'),
  404: errorResponse('Not found in this organization'),
  429: errorResponse('Rate limit reached (see retry-after)'),
} as const;

export const publicErrors = {
  400: errorResponse('Invalid request'),
  401: errorResponse('Invalid credentials or token'),
  429: errorResponse('Too many attempts (see retry-after)'),
} as const;

export const conflict = { 409: errorResponse('Conflicts with the current state') } as const;

/** A required JSON body: without `required`, a request with another content type would skip validation. */
export const jsonRequest = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

/** Credentials accepted by authenticated routes, for the OpenAPI document. */
export const bearerSecurity = [{ bearer: [] }];

/** A short filter value from the query string (ids, action names). */
export const queryText = () =>
  z
    .string()
    .max(64)
    .refine(...NO_NUL);

/** `limit` and `after` (the id of the last item of the previous page, so an id of the listed kind). */
export const listQuery = (kind: IdKind) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    after: z
      .string()
      .refine((id) => isId(kind, id), `is not an id of this list (${ID_PREFIXES[kind]}_…)`)
      .optional()
      .openapi({ description: 'Id of the last item of the previous page' }),
  });

/** A spend cap as deployments and API keys show it (cents; null = no cap). */
export const SpendCapSchema = z
  .object({ daily_cents: z.number().nullable(), monthly_cents: z.number().nullable() })
  .openapi('SpendCap');
