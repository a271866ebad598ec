import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LocalSecrets {
  redisToken: string;
  qstashToken: string;
  qstashCurrentSigningKey: string;
  qstashNextSigningKey: string;
  computeToken: string;
  /** Signs session JWTs. */
  authSecret: string;
  /** The key the edge presents to the local mail outbox (Resend's API). */
  mailApiKey: string;
  /** The key the edge's Stripe SDK presents to the local Stripe, and the webhook signing secret. */
  stripeSecretKey: string;
  stripeWebhookSecret: string;
}

const random = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;

export function generateSecrets(): LocalSecrets {
  return {
    redisToken: random('redis'),
    qstashToken: random('qstash'),
    qstashCurrentSigningKey: random('sig'),
    qstashNextSigningKey: random('sig'),
    computeToken: random('compute'),
    authSecret: randomBytes(48).toString('base64url'),
    mailApiKey: random('re'),
    stripeSecretKey: `sk_test_local${randomBytes(16).toString('hex')}`,
    stripeWebhookSecret: `whsec_${randomBytes(24).toString('base64')}`,
  };
}

/** Local credentials, generated once per data directory so restarts keep signatures and tokens valid. */
export function loadOrCreateSecrets(file: string): LocalSecrets {
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>) : {};
  // Secrets added by a newer version are generated once and saved beside the existing ones.
  const secrets = { ...generateSecrets(), ...saved };
  if (Object.keys(secrets).length !== Object.keys(saved).length) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}
