import type { Caller } from '../actor.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { cappedKeysMay, type Permission, roleAllows } from './permissions.ts';
import type { Role } from './roles.ts';

/** The caller must hold `permission` in its org; returns the caller and the role it acts with. */
export function authorize(caller: Caller | null, permission: Permission): { caller: Caller; role: Role } {
  if (!caller) throw new UnauthorizedError();
  const { actor } = caller;
  if (actor.type === 'api_key' && actor.kind === 'deployment') {
    throw new ForbiddenError('Deployment keys can only call inference on their own endpoint.');
  }
  if (!roleAllows(actor.role, permission)) {
    throw new ForbiddenError(`Your role (${actor.role}) does not allow ${permission}.`);
  }
  if (actor.type === 'api_key' && actor.capped && !cappedKeysMay(permission)) {
    throw new ForbiddenError(
      `This API key has a spend cap, so it may read and run inference but not ${permission}: what it would manage (deployments, keys, members, billing) could spend past its cap or lift it. Use an uncapped key or sign in.`,
    );
  }
  return { caller, role: actor.role };
}

/**
 * Inference rights: a deployment key is bound to its one endpoint (returned); people and account keys
 * need `inference.invoke` and may name any endpoint of their org (null).
 */
export function authorizeInference(caller: Caller | null): {
  caller: Caller;
  boundEndpointId: string | null;
} {
  if (!caller) throw new UnauthorizedError();
  const { actor } = caller;
  if (actor.type === 'api_key' && actor.kind === 'deployment')
    return { caller, boundEndpointId: actor.endpointId };
  authorize(caller, 'inference.invoke');
  return { caller, boundEndpointId: null };
}

/** Routes about a person's own account (their orgs, invitations) need a signed-in user, not a key. */
export function requireUser(caller: Caller | null) {
  if (!caller) throw new UnauthorizedError();
  if (caller.actor.type !== 'user')
    throw new ForbiddenError('This route needs a signed-in user, not an API key.');
  return caller.actor;
}
