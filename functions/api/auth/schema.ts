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
    refresh_token: z.string().openapi({ description: 'One use: each refresh returns a new one' }),
    refresh_expires_at: z.string(),
    user_id: z.string(),
    session_id: z.string(),
  })
  .openapi('SessionTokens');

export const AcceptedSchema = z.object({ status: z.string(), message: z.string() }).openapi('Accepted');
