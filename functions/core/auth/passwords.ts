import { argon2idAsync } from '@noble/hashes/argon2.js';
import { constantTimeEqual } from './secrets.ts';

/**
 * Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane), in portable JavaScript so
 * it runs in workerd (which has no native Argon2 and caps PBKDF2 far below OWASP's count). The PHC
 * string stores the parameters, so they can be raised later and old hashes still verify.
 */
const PARAMS = { m: 19_456, t: 2, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

const encoder = new TextEncoder();

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll('=', '');
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

async function derive(password: string, salt: Uint8Array, params: { m: number; t: number; p: number }) {
  return argon2idAsync(encoder.encode(password.normalize('NFKC')), salt, { ...params, dkLen: HASH_BYTES });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, PARAMS);
  return `$argon2id$v=19$m=${PARAMS.m},t=${PARAMS.t},p=${PARAMS.p}$${toBase64(salt)}$${toBase64(hash)}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = PHC.exec(stored);
  if (!match) return false;
  const [, m, t, p, salt = '', expected = ''] = match;
  const actual = await derive(password, fromBase64(salt), { m: Number(m), t: Number(t), p: Number(p) });
  return constantTimeEqual(actual, fromBase64(expected));
}

/**
 * A hash of nothing in particular, verified against when an email is unknown, so "no such user" takes
 * as long as "wrong password" and response times do not reveal which addresses have accounts.
 */
let decoy: Promise<string> | undefined;
export async function spendPasswordCheckTime(password: string): Promise<void> {
  decoy ??= hashPassword(randomFiller());
  await verifyPassword(password, await decoy);
}

const randomFiller = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), String).join('');
