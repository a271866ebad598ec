import type { ApiKeyKind } from './kinds.ts';

/**
 * API keys look like `sk_live_<32 random base62><6 checksum>`. The random part carries ~190 bits; the
 * checksum (CRC-32 of everything before it) lets us reject typos and truncated keys without a database
 * lookup, and lets secret scanners recognise a leaked key with few false positives.
 */
export const KEY_PREFIXES: Record<ApiKeyKind, string> = { account: 'sk_live_', deployment: 'sk_dep_' };

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = new RegExp(`^(sk_live_|sk_dep_)([0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}})$`);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++)
    crc = (CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(text: string): string {
  let value = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export interface GeneratedKey {
  /** The full secret: shown to its creator once, never stored. */
  secret: string;
  /** What lists show: `sk_live_Ab3d`. */
  displayPrefix: string;
  lastFour: string;
}

export function generateApiKey(kind: ApiKeyKind): GeneratedKey {
  const head = `${KEY_PREFIXES[kind]}${randomBase62(RANDOM_LENGTH)}`;
  const secret = `${head}${checksum(head)}`;
  return {
    secret,
    displayPrefix: secret.slice(0, KEY_PREFIXES[kind].length + 4),
    lastFour: secret.slice(-4),
  };
}

/** The key's kind when it is well-formed and its checksum matches; null for anything else. */
export function parseApiKey(candidate: string): ApiKeyKind | null {
  const match = KEY_PATTERN.exec(candidate);
  if (!match) return null;
  const head = candidate.slice(0, -CHECKSUM_LENGTH);
  if (checksum(head) !== candidate.slice(-CHECKSUM_LENGTH)) return null;
  return match[1] === KEY_PREFIXES.account ? 'account' : 'deployment';
}

/** Whether a bearer credential claims to be an API key (as opposed to a session JWT). */
export const looksLikeApiKey = (credential: string) => credential.startsWith('sk_');
