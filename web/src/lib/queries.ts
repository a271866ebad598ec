import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, unwrap } from '../api/client.ts';

export interface Balance {
  balance_usd: number;
  running_cost_per_hour_usd: number;
}

export interface Runtime {
  status: 'scaled_to_zero' | 'starting' | 'running' | 'stopped';
  replicas: { active: number; starting: number };
  queue: { queued: number; running: number };
  cold_start_estimate_seconds: number | null;
  cost: { per_hour_usd: number; today_usd: number; month_usd: number; total_usd: number };
}

/** The balance; `poll` re-reads it every 2 s (after a checkout, until Stripe's webhook credits it). */
export const useBalance = (poll = false) =>
  useQuery({
    queryKey: ['balance'],
    queryFn: async () => (await unwrap(api.GET('/api/billing/balance'))) as unknown as Balance,
    refetchInterval: poll ? 2_000 : false,
  });

export interface Usage {
  totals: { spend_usd: number; gpu_hours: number; average_cost_per_hour_usd: number | null };
  by_service: { service: string; spend_usd: number; gpu_hours: number }[];
  by_day: { date: string; by_service: Record<string, number> }[];
}

/** This month's spend and GPU-hours (by service and day). */
export const useUsage = () =>
  useQuery({
    queryKey: ['usage'],
    queryFn: async () =>
      (await unwrap(api.GET('/api/billing/usage', { params: { query: {} } }))) as unknown as Usage,
  });

export const useGpus = () =>
  useQuery({ queryKey: ['gpus'], queryFn: () => unwrap(api.GET('/api/gpus')), staleTime: 300_000 });

export const useCatalog = () =>
  useQuery({ queryKey: ['catalog'], queryFn: () => unwrap(api.GET('/api/models')), staleTime: 300_000 });

export const useDeployments = () =>
  useQuery({ queryKey: ['deployments'], queryFn: () => unwrap(api.GET('/api/deployments')) });

/** Deploys and opens the new deployment, carrying its key (shown this once) to the page. */
export function useDeploy() {
  const navigate = useNavigate();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      unwrap(api.POST('/api/deployments', { body: body as never })) as Promise<{
        id: string;
        deployment_key: { key: string };
      }>,
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: ['deployments'] });
      navigate(`/deployments/${created.id}`, { state: { key: created.deployment_key.key } });
    },
  });
}
