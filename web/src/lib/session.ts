import { useQuery, useQueryClient } from '@tanstack/react-query';
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
