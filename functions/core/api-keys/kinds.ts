/** `sk_live_…` manage an org; `sk_dep_…` call one endpoint only (DESIGN §5). */
export const API_KEY_KINDS = ['account', 'deployment'] as const;
export type ApiKeyKind = (typeof API_KEY_KINDS)[number];
