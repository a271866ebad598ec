import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, chooseOrg, unwrap } from '../api/client.ts';

/** The signed-in user and their org; null when signed out. */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      const { data, response } = await api.GET('/api/auth/me');
      if (response.status === 401) return null;
      if (!data) throw new Error(`Could not load your account (${response.status}).`);
      return data;
    },
    staleTime: 60_000,
  });
}

export function useOrgs() {
  return useQuery({ queryKey: ['orgs'], queryFn: () => unwrap(api.GET('/api/orgs')) });
}

/** Acting in another org: every cached answer belonged to the old one. */
export function useSwitchOrg() {
  const client = useQueryClient();
  return (orgId: string) => {
    chooseOrg(orgId);
    client.clear();
  };
}
