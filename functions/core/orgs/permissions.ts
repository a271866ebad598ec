import { ForbiddenError } from '../errors.ts';
import type { Role } from './roles.ts';

/**
 * Who may do what in an org: the one table every route consults. Deployment keys appear nowhere here:
 * they may only call inference on their own endpoint.
 */
export const PERMISSIONS = {
  'org.read': ['owner', 'admin', 'developer', 'billing', 'viewer'],
  'org.update': ['owner', 'admin'],
  'org.delete': ['owner'],
  'member.read': ['owner', 'admin', 'developer', 'billing', 'viewer'],
  'member.manage': ['owner', 'admin'],
  'invitation.read': ['owner', 'admin'],
  'invitation.manage': ['owner', 'admin'],
  'api_key.read': ['owner', 'admin', 'developer'],
  'api_key.manage': ['owner', 'admin', 'developer'],
  'audit.read': ['owner', 'admin'],
  'endpoint.read': ['owner', 'admin', 'developer', 'viewer'],
  'endpoint.manage': ['owner', 'admin', 'developer'],
  'inference.invoke': ['owner', 'admin', 'developer'],
  'billing.read': ['owner', 'admin', 'billing'],
  'billing.manage': ['owner', 'billing'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

/**
 * What a key with a spend cap may do, whatever its role: read, and run inference (which its cap
 * bounds). Anything else could spend outside the cap (a deployment's replicas bill uptime; a key it
 * mints has a cap of its own) or lift it.
 */
export const cappedKeysMay = (permission: Permission): boolean =>
  permission === 'inference.invoke' || permission.endsWith('.read');

/** The roles holding a permission (e.g. who gets billing emails). */
export const roleHolders = (permission: Permission): Role[] => [...PERMISSIONS[permission]];

export function roleAllows(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/**
 * Whether `granter` may give `role` to someone. Owners give any role; everyone else only roles whose
 * permissions are a subset of their own (so an admin cannot mint an owner, a developer cannot mint a
 * billing key).
 */
export function canGrant(granter: Role, role: Role): boolean {
  if (granter === 'owner') return true;
  if (role === 'owner') return false;
  return (Object.keys(PERMISSIONS) as Permission[]).every(
    (permission) => !roleAllows(role, permission) || roleAllows(granter, permission),
  );
}

export function assertCanGrant(granter: Role, role: Role): void {
  if (!canGrant(granter, role)) {
    throw new ForbiddenError(`A ${granter} cannot grant the ${role} role.`, { param: 'role' });
  }
}
