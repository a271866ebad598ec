import { z } from '@hono/zod-openapi';

export const UserSchema = z
  .object({
    id: z.string().openapi({ example: 'usr_2ZkQ8pV7nT4sW9xY3bC1dE' }),
    email: z.string(),
    name: z.string().nullable(),
    email_verified: z.boolean(),
    created_at: z.string(),
  })
  .openapi('User');

export const SessionTokensSchema = z
  .object({
    access_token: z.string().openapi({ description: 'JWT for `Authorization: Bearer`; short-lived' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().openapi({ example: 900 }),
    refresh_token: z.string().nullable().openapi({
      description:
        'One use: each refresh returns a new one. Null for a refresh made with the httpOnly cookie: the new token is in the cookie only, out of reach of page scripts',
    }),
    refresh_expires_at: z.string(),
    user_id: z.string(),
    session_id: z.string(),
  })
  .openapi('SessionTokens');

export const AcceptedSchema = z.object({ status: z.string(), message: z.string() }).openapi('Accepted');

export const SessionSchema = z
  .object({
    object: z.literal('session'),
    id: z.string().openapi({ example: 'ses_2ZkQ8pV7nT4sW9xY3bC1dE' }),
    current: z.boolean().openapi({ description: 'The session making this request' }),
    ip: z.string().nullable().openapi({ description: 'Where it signed in from' }),
    user_agent: z.string().nullable(),
    created_at: z.string(),
    last_active_at: z
      .string()
      .openapi({ description: 'Its last token refresh (every 15 minutes while in use)' }),
    expires_at: z.string(),
  })
  .openapi('Session');

export const SessionListSchema = z
  .object({ object: z.literal('list'), data: z.array(SessionSchema) })
  .openapi('SessionList');

export const RevokedSessionSchema = SessionSchema.extend({ revoked: z.literal(true) }).openapi(
  'RevokedSession',
);

export const SessionsRevokedSchema = z
  .object({ object: z.literal('sessions_revoked'), revoked: z.number().int() })
  .openapi('SessionsRevoked');
