export const MODEL_CATEGORIES = ['llm', 'embedding', 'transcription', 'speech', 'image'] as const;
export type ModelCategory = (typeof MODEL_CATEGORIES)[number];

/** Community capacity is cheaper spot-like hosts; secure runs in our own AWS accounts. */
export const CLOUD_TIERS = ['community', 'secure'] as const;
export type CloudTier = (typeof CLOUD_TIERS)[number];
