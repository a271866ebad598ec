/**
 * Prefixed, time-ordered identifiers (`ep_2ZkQ…`). The prefix says what a thing is in logs, URLs and
 * support tickets; the body is 6 bytes of milliseconds followed by 10 random bytes, base58-encoded to a
 * fixed width so ids sort by creation time (index locality) and cannot be guessed.
 */
export const ID_PREFIXES = {
  org: 'org',
  user: 'usr',
  membership: 'mem',
  apiKey: 'key',
  gpuType: 'gpu',
  model: 'mdl',
  endpoint: 'ep',
  replica: 'rep',
  replicaEvent: 'rev',
  job: 'job',
  pod: 'pod',
  ledgerTransaction: 'txn',
  ledgerEntry: 'ent',
  payment: 'pay',
  auditEvent: 'aud',
  session: 'ses',
  refreshToken: 'rtk',
  emailToken: 'etk',
  invitation: 'inv',
  webhookDelivery: 'whd',
  webhookAttempt: 'wha',
  request: 'req',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;
export type IdPrefix = (typeof ID_PREFIXES)[IdKind];

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BODY_BYTES = 16;
/** ceil(128 / log2(58)): every 16-byte value fits, so padding keeps lexical order equal to numeric order. */
const BODY_LENGTH = 22;
const BODY_PATTERN = new RegExp(`^[${ALPHABET}]{${BODY_LENGTH}}$`);

function base58(bytes: Uint8Array): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let out = '';
  while (value > 0n) {
    out = ALPHABET[Number(value % 58n)] + out;
    value /= 58n;
  }
  return out.padStart(BODY_LENGTH, ALPHABET[0]);
}

export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  const bytes = new Uint8Array(BODY_BYTES);
  crypto.getRandomValues(bytes.subarray(6));
  let time = Math.floor(nowMs);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  return `${ID_PREFIXES[kind]}_${base58(bytes)}`;
}

/** True when `id` is a well-formed id of the given kind (used to reject foreign or mangled ids early). */
export function isId(kind: IdKind, id: string): boolean {
  const prefix = `${ID_PREFIXES[kind]}_`;
  return id.startsWith(prefix) && BODY_PATTERN.test(id.slice(prefix.length));
}
