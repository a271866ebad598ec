import { createRouter } from '../lib/openapi.ts';

/**
 * The OpenAI-compatible surface (`/v1/chat/completions`, `/v1/embeddings`, …), routed through the
 * request queue. Routes arrive with the inference issue; until then every `/v1` path answers the
 * OpenAI-shaped 404 that SDKs already understand.
 */
export const v1 = createRouter();
