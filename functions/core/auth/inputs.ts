import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.ts';

/** Addresses are compared and stored lower-cased and trimmed. */
export const emailInput = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email({ error: 'must be a valid email address' }))
  .transform((email) => email.toLowerCase());

export const passwordInput = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

/** Opaque one-time tokens from emailed links and refresh tokens: base64url, bounded. */
export const tokenInput = z
  .string()
  .min(16, 'is not a valid token')
  .max(256, 'is not a valid token')
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a valid token');

/** Postgres text cannot hold NUL: refuse it here as bad input rather than fail in the database. */
export const NO_NUL = [
  (value: string) => !value.includes('\u0000'),
  'must not contain NUL characters',
] as const;

/**
 * Control characters (C0, DEL, C1), direction marks and overrides, and the byte-order mark: in a name
 * shown to other members (a key, a deployment, an organization) they can make it read as another.
 */
const disguisesText = (value: string) =>
  [...value].some((char) => {
    const code = char.codePointAt(0) ?? 0;
    return (
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x200e ||
      code === 0x200f ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069) ||
      code === 0xfeff
    );
  });

export const displayNameInput = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((value) => !disguisesText(value), 'must not contain control or text-direction characters');
