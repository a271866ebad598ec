import type { apiKeys } from '../../../db/schema/index.ts';
import { capView } from '../billing/caps.ts';

/** What the API shows of a key: never the secret or its hash. */
export interface ApiKeyView {
  id: string;
  object: 'api_key';
  name: string;
  kind: 'account' | 'deployment';
  role: string | null;
  endpoint_id: string | null;
  /** `sk_live_Ab3d…` and the last four characters: enough to tell keys apart. */
  prefix: string;
  last_four: string;
  rate_limit_per_minute: number | null;
  spend_cap: { daily_cents: number | null; monthly_cents: number | null };
  /** Who made it (null once that user is deleted): after a compromise, the keys to look at. */
  created_by_user_id: string | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function toApiKeyView(row: typeof apiKeys.$inferSelect): ApiKeyView {
  return {
    id: row.id,
    object: 'api_key',
    name: row.name,
    kind: row.kind,
    role: row.role,
    endpoint_id: row.endpointId,
    prefix: row.prefix,
    last_four: row.lastFour,
    rate_limit_per_minute: row.rateLimitPerMinute,
    spend_cap: capView(row),
    created_by_user_id: row.createdByUserId,
    created_at: row.createdAt.toISOString(),
    last_used_at: iso(row.lastUsedAt),
    expires_at: iso(row.expiresAt),
    revoked_at: iso(row.revokedAt),
  };
}
