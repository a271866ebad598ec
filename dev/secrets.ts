import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LocalSecrets {
  redisToken: string;
  qstashToken: string;
  qstashCurrentSigningKey: string;
  qstashNextSigningKey: string;
  computeToken: string;
}

const random = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;

export function generateSecrets(): LocalSecrets {
  return {
    redisToken: random('redis'),
    qstashToken: random('qstash'),
    qstashCurrentSigningKey: random('sig'),
    qstashNextSigningKey: random('sig'),
    computeToken: random('compute'),
  };
}

/** Local credentials, generated once per data directory so restarts keep signatures and tokens valid. */
export function loadOrCreateSecrets(file: string): LocalSecrets {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  const secrets = generateSecrets();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
