import { ForbiddenError } from './errors.ts';
import type { Role } from './orgs/roles.ts';

/** Who is making a request, once their credential has been checked. */
export type Actor =
  | { type: 'user'; userId: string; sessionId: string; role: Role; emailVerified: boolean }
  | {
      type: 'api_key';
      keyId: string;
      kind: 'account';
      role: Role;
      createdByUserId: string | null;
      /** A spend cap makes the key one that reads and runs inference only (see `authorize`). */
      capped: boolean;
    }
  | { type: 'api_key'; keyId: string; kind: 'deployment'; endpointId: string };

/** An authenticated request acting in one org. Every org-scoped query filters by `orgId`. */
export interface Caller {
  orgId: string;
  actor: Actor;
}

/** Where a request came from, for audit rows and throttling. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

/** The id written to audit rows for an actor. */
export const actorId = (actor: Actor) => (actor.type === 'user' ? actor.userId : actor.keyId);

/** The role the actor holds in its org; deployment keys hold none. */
export const actorRole = (actor: Actor): Role | null =>
  actor.type === 'user' || actor.kind === 'account' ? actor.role : null;

/**
 * Actions that create credentials or reach other people need a verified address, so an account made
 * with someone else's email cannot act in their name.
 */
export function assertVerified(actor: Actor): void {
  if (actor.type === 'user' && !actor.emailVerified) {
    throw new ForbiddenError('Verify your email address first: follow the link we sent you.');
  }
}

/** The person behind an actor: the user, or the creator of an account key; null for deployment keys. */
export function humanBehind(actor: Actor): string | null {
  if (actor.type === 'user') return actor.userId;
  return actor.kind === 'account' ? actor.createdByUserId : null;
}
