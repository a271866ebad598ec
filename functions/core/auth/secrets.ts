/** Web Crypto helpers shared by keys, sessions and emailed links (the same global in workerd and Node). */

import { IsolateMemo } from '../isolate-memo.ts';

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** `bytes` of randomness, base64url-encoded: refresh tokens, email links, invitation links. */
export function randomToken(bytes = 32): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes));
  let binary = '';
  for (const byte of buffer) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

/** What is stored for a secret: its SHA-256, so a database leak yields nothing usable. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  let hex = '';
  for (const byte of digest) hex += HEX[byte];
  return hex;
}

/**
 * A presented secret's SHA-256 (an API key, a worker token), remembered by this isolate for a minute:
 * a key sent with every request is hashed once, not on each (Web Crypto's digest is a thread-pool job,
 * about 0.2 ms of CPU under load).
 */
const presentedDigests = new IsolateMemo<string>(60_000);

export async function presentedSecretHash(secret: string, nowMs: number): Promise<string> {
  const known = presentedDigests.get(secret, nowMs);
  if (known) return known;
  const hash = await sha256Hex(secret);
  presentedDigests.set(secret, hash, nowMs);
  return hash;
}

/** Compares two byte strings in time independent of where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}
