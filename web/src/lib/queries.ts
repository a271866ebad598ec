import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { InferRequestType, InferResponseType } from 'hono/client';
import { useRef } from 'react';
import { useNavigate } from 'react-router';
import { api, unwrap } from '../api/client.ts';
import { allPages } from './pages.ts';

export type DeploymentDetail = InferResponseType<(typeof api.deployments)[':id']['$get'], 200>;
export type BillingSettings = InferResponseType<typeof api.billing.settings.$get, 200>;

/**
 * The balance; `poll` re-reads it every 2 s after a checkout until Stripe's webhook credits it (the
 * balance moves), for two minutes at most.
 */
export function useBalance(poll = false) {
  const first = useRef<number | null>(null);
  return useQuery({
    queryKey: ['balance'],
    queryFn: () => unwrap(api.billing.balance.$get()),
    refetchInterval: (query) => {
      const now = query.state.data?.balance_usd;
      first.current ??= now ?? null;
      const credited = now !== undefined && now !== first.current;
      return poll && !credited && query.state.dataUpdateCount < 60 ? 2_000 : false;
    },
  });
}

/** This month's spend and GPU-hours (by service and day). */
export const useUsage = () =>
  useQuery({
    queryKey: ['usage'],
    queryFn: () => unwrap(api.billing.usage.$get({ query: {} })),
  });

export const useGpus = () =>
  useQuery({ queryKey: ['gpus'], queryFn: () => unwrap(api.gpus.$get()), staleTime: 300_000 });

export const useCatalog = () =>
  useQuery({
    queryKey: ['catalog'],
    queryFn: () => unwrap(api.models.$get({ query: {} })),
    staleTime: 300_000,
  });

/** Every deployment of the org (the API pages them 100 at most). */
export const useDeployments = () =>
  useQuery({
    queryKey: ['deployments'],
    queryFn: () => allPages((after) => unwrap(api.deployments.$get({ query: { limit: 100, after } }))),
  });

/** Deploys and opens the new deployment, carrying its key (shown this once) to the page. */
export function useDeploy() {
  const navigate = useNavigate();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: InferRequestType<typeof api.deployments.$post>['json']) =>
      unwrap(api.deployments.$post({ json: body })),
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: ['deployments'] });
      navigate(`/deployments/${created.id}`, { state: { key: created.deployment_key.key } });
    },
  });
}
