import { useQuery, useQueryClient } from '@tanstack/react-query';
import { canGrant, type Permission, roleAllows } from '../../../functions/core/orgs/permissions.ts';
import type { Role } from '../../../functions/core/orgs/roles.ts';
import { ApiError, api, chooseOrg, unwrap } from '../api/client.ts';

/** The signed-in user and their org; null when signed out. */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      try {
        return await unwrap(api.auth.me.$get());
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
}

export function useOrgs() {
  return useQuery({ queryKey: ['orgs'], queryFn: () => unwrap(api.orgs.$get()) });
}

/**
 * Acting in another org: every cached answer belonged to the old one. Reset, not cleared: clearing
 * drops the cache under the screens already showing it, which kept the old org's data until the next
 * navigation; a reset empties each query and refetches the ones on screen, for the new org.
 */
export function useSwitchOrg() {
  const client = useQueryClient();
  return (orgId: string) => {
    chooseOrg(orgId);
    void client.resetQueries();
  };
}

/**
 * What the signed-in user's role in the current org allows (the API's own table): controls the API
 * would refuse with a 403 are not offered. False until the user is known.
 */
export function useCan() {
  const me = useMe();
  const role = me.data?.role as Role | undefined;
  return {
    can: (permission: Permission) => role !== undefined && roleAllows(role, permission),
    /** Whether this user may give `candidate` to a key or a member. */
    mayGrant: (candidate: Role) => role !== undefined && canGrant(role, candidate),
  };
}
