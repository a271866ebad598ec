import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { replicaPricePerHour } from '../../../functions/core/billing/replica-price.ts';
import { api, unwrap } from '../api/client.ts';
import {
  Badge,
  Button,
  buttonClass,
  Card,
  Empty,
  ErrorNote,
  Loading,
  PageTitle,
  ScrollTable,
} from '../components/ui.tsx';
import { confirmStop } from '../lib/confirm-stop.ts';
import { dateTime, hours, usd } from '../lib/format.ts';
import { useBalance, useCatalog, useDeploy, useDeployments, useGpus, useUsage } from '../lib/queries.ts';
import { useCan } from '../lib/session.ts';

const stateTone = { active: 'green', stopped: 'slate' } as const;

export default function Dashboard() {
  const balance = useBalance();
  const deployments = useDeployments();
  const catalog = useCatalog();
  const deploy = useDeploy();
  const { can } = useCan();
  const usage = useUsage();
  const activity = useQuery({
    queryKey: ['transactions', 'recent'],
    queryFn: () => unwrap(api.billing.transactions.$get({ query: { limit: 5 } })),
  });
  const active = deployments.data?.data.filter((deployment) => deployment.state === 'active') ?? [];
  const gpus = useGpus();
  const client = useQueryClient();
  const toggle = useMutation({
    mutationFn: ({ id, start }: { id: string; start: boolean }) =>
      unwrap(
        start
          ? api.deployments[':id'].start.$post({ param: { id } })
          : api.deployments[':id'].stop.$post({ param: { id } }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: ['deployments'] }),
  });
  /** What one replica costs an hour on its first-choice GPU, priced as the server prices it. */
  const pricePerHour = (deployment: { model: string | null; gpu_types: string[]; gpu_count: number }) => {
    const model = catalog.data?.data.find((entry) => entry.slug === deployment.model);
    const first = deployment.gpu_types[0] ?? '';
    // A GPU type no longer listed (unavailable now) has no price to show, unless it is the model's own.
    const gpuPrice = gpus.data?.data.find((entry) => entry.id === first)?.price_per_hour_usd.secure ?? null;
    const onCatalogPlacement = model?.gpu.slug === first && model.gpu.count === deployment.gpu_count;
    if ((deployment.model && !model) || (gpuPrice === null && !onCatalogPlacement)) return null;
    return replicaPricePerHour(
      model
        ? { gpu: model.gpu.slug, gpuCount: model.gpu.count, pricePerHour: model.price_per_hour_usd }
        : null,
      { gpu: first, gpuCount: deployment.gpu_count, gpuPricePerHour: gpuPrice },
    );
  };
  return (
    <>
      <PageTitle
        actions={
          can('endpoint.manage') && (
            <Link to="/catalog" className={buttonClass()}>
              Deploy a model
            </Link>
          )
        }
      >
        Dashboard
      </PageTitle>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Card title="Balance">
          {balance.isPending ? (
            <Loading />
          ) : (
            <p className="text-3xl font-semibold">{usd(balance.data?.balance_usd ?? 0)}</p>
          )}
          <ErrorNote error={balance.error} />
          <Link to="/billing" className="mt-2 inline-block text-sm text-brand-600 underline">
            Add funds
          </Link>
        </Card>
        <Card title="Active deployments">
          <p className="text-3xl font-semibold">{deployments.isPending ? '…' : active.length}</p>
        </Card>
        <Card title="GPU hours (month)">
          <p className="text-3xl font-semibold">
            {usage.data ? hours(usage.data.totals.gpu_hours) : usage.error ? '—' : '…'}
          </p>
        </Card>
        <Card title="Spend (month)">
          <p className="text-3xl font-semibold">
            {usage.data ? usd(usage.data.totals.spend_usd) : usage.error ? '—' : '…'}
          </p>
          {/* Billing is not every role's to read (developers and viewers): say why it is blank. */}
          <ErrorNote error={usage.error} />
        </Card>
      </div>

      <Card title="Deployments" className="mt-4">
        {deployments.isPending && <Loading />}
        <ErrorNote error={deployments.error ?? toggle.error} />
        {deployments.data && deployments.data.data.length === 0 && (
          <Empty>No deployments yet. Pick a model below or from the catalog.</Empty>
        )}
        {deployments.data && deployments.data.data.length > 0 && (
          <ScrollTable label="Deployments table">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th className="py-2 pr-3">Name</th>
                <th className="pr-3">Model</th>
                <th className="pr-3">GPU</th>
                <th className="pr-3">Status</th>
                <th className="pr-3">Cost/hr per replica</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {deployments.data.data.map((deployment) => (
                <tr key={deployment.id} className="border-t border-slate-100 dark:border-slate-800">
                  <td className="py-2 pr-3 font-medium">
                    <Link className="text-brand-600 underline" to={`/deployments/${deployment.id}`}>
                      {deployment.name}
                    </Link>
                  </td>
                  <td className="pr-3">{deployment.model ?? deployment.image}</td>
                  <td className="pr-3">
                    {deployment.gpu_count} × {deployment.gpu_types[0]}
                  </td>
                  <td className="pr-3">
                    {deployment.state === 'active' && deployment.failed_starts >= 2 ? (
                      // Replicas keep failing to start: active in name only.
                      <Badge tone="red">failing</Badge>
                    ) : (
                      <Badge tone={stateTone[deployment.state]}>{deployment.state}</Badge>
                    )}
                  </td>
                  <td className="pr-3">
                    {pricePerHour(deployment) === null ? '—' : usd(pricePerHour(deployment) ?? 0)}
                  </td>
                  <td className="flex flex-wrap items-center gap-2 py-1">
                    <Link className="text-sm text-brand-600 underline" to={`/deployments/${deployment.id}`}>
                      API & logs
                    </Link>
                    {can('endpoint.manage') && (
                      <Button
                        variant="secondary"
                        aria-label={`${deployment.state === 'active' ? 'Stop' : 'Start'} ${deployment.name}`}
                        disabled={toggle.isPending}
                        onClick={() => {
                          const start = deployment.state !== 'active';
                          if (start || confirmStop(deployment.name))
                            toggle.mutate({ id: deployment.id, start });
                        }}
                      >
                        {deployment.state === 'active' ? 'Stop' : 'Start'}
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </ScrollTable>
        )}
      </Card>

      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        {can('endpoint.manage') && (
          <Card title="Quick deploy">
            {catalog.isPending && <Loading />}
            <ul className="flex flex-col gap-2">
              {catalog.data?.data
                .filter((model) => model.category === 'llm')
                .slice(0, 3)
                .map((model) => (
                  <li key={model.slug} className="flex items-center justify-between gap-2">
                    <span className="text-sm">
                      {model.name}{' '}
                      <span className="text-slate-500">· {usd(model.price_per_hour_usd)}/hr</span>
                    </span>
                    <Button
                      variant="secondary"
                      disabled={deploy.isPending}
                      onClick={() => deploy.mutate({ model: model.slug })}
                    >
                      Deploy
                    </Button>
                  </li>
                ))}
            </ul>
            <ErrorNote error={deploy.error} />
          </Card>
        )}
        <Card title="Recent activity">
          {activity.isPending && <Loading />}
          <ErrorNote error={activity.error} />
          {activity.data?.data.length === 0 && <Empty>No activity yet.</Empty>}
          <ul className="flex flex-col gap-1 text-sm">
            {activity.data?.data.map((line) => (
              <li key={line.id} className="flex justify-between gap-2">
                <span className="truncate">
                  {line.description} <span className="text-slate-500">· {dateTime(line.created_at)}</span>
                </span>
                <span
                  className={line.amount_usd < 0 ? 'text-red-600' : 'text-emerald-700 dark:text-emerald-400'}
                >
                  {usd(line.amount_usd)}
                </span>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </>
  );
}
