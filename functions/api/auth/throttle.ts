import type { ServiceContext } from '../../context.ts';
import { EMAIL_TOKEN_TTL_SECONDS } from '../../core/auth/email-tokens.ts';
import { createRateLimiter } from '../../lib/ratelimit.ts';

/**
 * Brute-force brakes on the public auth routes: per address (slows guessing one account's password)
 * and per client IP (slows spraying many accounts). Limits are per 15 minutes unless stated.
 */
const POLICIES = {
  // Guesses at one account from one client. Not per address alone: anyone could then lock its owner
  // out with ten requests; per address there is only a looser cap on guessing from many clients.
  login_email_ip: { limit: 10, windowSeconds: 900 },
  login_email: { limit: 100, windowSeconds: 900 },
  login_ip: { limit: 100, windowSeconds: 900 },
  register_ip: { limit: 20, windowSeconds: 3600 },
  email_link: { limit: 5, windowSeconds: 3600 },
  // Reset requests for many addresses from one client: probing which addresses have accounts.
  reset_request_ip: { limit: 50, windowSeconds: 3600 },
  reset_confirm_ip: { limit: 20, windowSeconds: 900 },
  // Verification asks for the account's password: guesses per link (5 in its whole life, not 5 per
  // 15 minutes, which would be hundreds), and per client.
  verify_link: { limit: 5, windowSeconds: EMAIL_TOKEN_TTL_SECONDS.verify_email },
  verify_ip: { limit: 20, windowSeconds: 900 },
  // Guesses at the current password from a signed-in session (a stolen one cannot try it freely).
  password_change: { limit: 10, windowSeconds: 900 },
} as const;

export async function throttle(
  ctx: ServiceContext,
  policy: keyof typeof POLICIES,
  subject: string,
): Promise<void> {
  const { limit, windowSeconds } = POLICIES[policy];
  await createRateLimiter(ctx.redis, `auth:${policy}`, limit, windowSeconds).consume(
    subject,
    ctx.clock.now(),
  );
}

export const clientIp = (ctx: ServiceContext) => ctx.origin.ip ?? 'unknown';
