import { OUTPUT_NAME } from './store.ts';

/**
 * Generated files are handed out as expiring links, as OpenAI's image URLs are: anyone holding the link
 * may fetch the file until it expires, nobody can forge one. The signature is an HMAC over the path
 * and the expiry, keyed by a key derived from the edge's secret.
 */
const encoder = new TextEncoder();

async function hmacKey(secret: string) {
  return crypto.subtle.importKey(
    'raw',
    encoder.encode(`output-links\n${secret}`),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
}

const hex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');

const fromHex = (text: string) =>
  /^[0-9a-f]{64}$/.test(text)
    ? Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16))
    : null;

export const outputPath = (jobId: string, name: string) => `/v1/files/${jobId}/${name}`;

export async function signOutputLink(
  secret: string,
  baseUrl: string,
  file: { jobId: string; name: string },
  expiresAtSeconds: number,
): Promise<string> {
  const path = outputPath(file.jobId, file.name);
  const signature = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(secret),
    encoder.encode(`${path}\n${expiresAtSeconds}`),
  );
  const url = new URL(path, baseUrl);
  url.searchParams.set('expires', String(expiresAtSeconds));
  url.searchParams.set('signature', hex(signature));
  return url.toString();
}

export type LinkCheck = 'valid' | 'expired' | 'invalid';

export async function checkOutputLink(
  secret: string,
  file: { jobId: string; name: string },
  expires: string | undefined,
  signature: string | undefined,
  nowSeconds: number,
): Promise<LinkCheck> {
  const expiresAt = Number(expires);
  const given = fromHex(signature ?? '');
  if (!Number.isSafeInteger(expiresAt) || !given || !OUTPUT_NAME.test(file.name)) return 'invalid';
  const path = outputPath(file.jobId, file.name);
  // verify() compares in constant time.
  const ok = await crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret),
    given,
    encoder.encode(`${path}\n${expiresAt}`),
  );
  if (!ok) return 'invalid';
  return expiresAt < nowSeconds ? 'expired' : 'valid';
}

interface FileRef {
  file: string;
  [field: string]: unknown;
}

const isFileRef = (value: unknown): value is FileRef =>
  typeof value === 'object' && value !== null && typeof (value as FileRef).file === 'string';

/**
 * Workers name the files they produced (`{ file: "image-0.png" }`, in a result's top level or its
 * `data` list); callers get links instead (`{ url }`) or, when `inline` reads the file, its bytes.
 */
export async function presentFiles(
  result: Record<string, unknown>,
  present: (ref: FileRef) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const replace = async (value: unknown) => {
    if (!isFileRef(value)) return value;
    const { file: _file, ...rest } = value;
    return { ...rest, ...(await present(value)) };
  };
  const top = (await replace(result)) as Record<string, unknown>;
  if (Array.isArray(top.data)) top.data = await Promise.all(top.data.map(replace));
  return top;
}
