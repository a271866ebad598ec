/**
 * Large request and response bodies (audio uploads, generated audio and images) travel by reference:
 * the edge stores them in an object bucket and the queue carries only their key. Production uses an
 * R2 bucket binding; `npm run dev` and the tests use the same binding as wrangler and miniflare run it.
 */
export interface StoredPayload {
  body: ReadableStream<Uint8Array>;
  size: number;
  contentType: string;
}

export interface PayloadStore {
  put(key: string, body: ArrayBuffer | Uint8Array | Blob, contentType: string): Promise<void>;
  get(key: string): Promise<StoredPayload | null>;
  delete(key: string): Promise<void>;
}

/** The file a worker fetches as a job's input (one per job: the uploaded audio). */
export const jobInputKey = (jobId: string) => `jobs/${jobId}/input`;

/** Files a worker produced for a job (`image-0.png`, `speech.wav`). */
export const jobOutputKey = (jobId: string, name: string) => `jobs/${jobId}/outputs/${name}`;

/** Output names are chosen by workers: kept to a safe, bounded form so they cannot escape the job. */
export const OUTPUT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}\.(png|jpg|jpeg|webp|wav|mp3|opus|aac|flac|pcm)$/;

/** Largest file a worker may store as one output. */
export const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * The type a stored output is served with, from its name alone: a worker's own Content-Type is never
 * trusted, since a type like image/svg+xml would run script on the API's origin.
 */
export const OUTPUT_CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  pcm: 'audio/pcm',
};

export const outputContentType = (name: string) =>
  OUTPUT_CONTENT_TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream';
