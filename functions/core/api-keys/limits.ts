import type { Actor } from '../actor.ts';

/** Requests per minute when a key sets no limit of its own; users of the dashboard share one budget. */
export const DEFAULT_RATE_LIMITS = { account: 600, deployment: 3000, user: 600 } as const;

export function rateLimitFor(actor: Actor, own: number | null): { identifier: string; perMinute: number } {
  if (actor.type === 'user')
    return { identifier: `user:${actor.userId}`, perMinute: DEFAULT_RATE_LIMITS.user };
  return { identifier: `key:${actor.keyId}`, perMinute: own ?? DEFAULT_RATE_LIMITS[actor.kind] };
}
