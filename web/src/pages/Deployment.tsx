import * as Tabs from '@radix-ui/react-tabs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { InferRequestType } from 'hono/client';
import { type FormEvent, lazy, Suspense, useEffect, useRef, useState } from 'react';
import { useLocation, useNavigate, useParams } from 'react-router';
import { ApiError, api, unwrap } from '../api/client.ts';
import {
  Badge,
  Button,
  Card,
  CopyButton,
  Empty,
  ErrorNote,
  Field,
  fieldError,
  Loading,
  PageTitle,
} from '../components/ui.tsx';
import { confirmStop } from '../lib/confirm-stop.ts';
import { dateTime, optionalCents, usd } from '../lib/format.ts';
import { deploymentKeys, useDeploymentStream } from '../lib/live.ts';
import { type DeploymentDetail, useCatalog } from '../lib/queries.ts';
import { quickStart, type Serves, servesOf } from '../lib/quick-start.ts';
import { useCan } from '../lib/session.ts';

const UptimeChart = lazy(() =>
  import('../components/Charts.tsx').then((module) => ({ default: module.UptimeChart })),
);
const LatencyChart = lazy(() =>
  import('../components/Charts.tsx').then((module) => ({ default: module.LatencyChart })),
);
const TrafficChart = lazy(() =>
  import('../components/Charts.tsx').then((module) => ({ default: module.TrafficChart })),
);

const statusTone = {
  running: 'green',
  starting: 'amber',
  scaled_to_zero: 'blue',
  failing: 'red',
  stopped: 'slate',
} as const;

function Connection({
  deploymentId,
  model,
  serves,
}: {
  deploymentId: string;
  model: string;
  serves: Serves;
}) {
  const location = useLocation();
  const navigate = useNavigate();
  const { can } = useCan();
  const [key, setKey] = useState<string | null>((location.state as { key?: string } | null)?.key ?? null);
  // Shown once means once: taken out of the history entry, so a reload or Back does not show it again
  // (nor does the browser keep it in its session history).
  useEffect(() => {
    if ((location.state as { key?: string } | null)?.key)
      navigate(location.pathname + location.search, { replace: true, state: null });
  }, [location, navigate]);
  const baseUrl = `${window.location.origin}/v1`;
  const regenerate = useMutation({
    mutationFn: async () => {
      const keys = await unwrap(
        api.auth['api-keys'].$get({ query: { kind: 'deployment', endpoint_id: deploymentId } }),
      );
      const current = keys.data[0];
      if (!current) throw new Error('This deployment has no key to regenerate.');
      return unwrap(api.auth['api-keys'][':id'].regenerate.$post({ param: { id: current.id } }));
    },
    onSuccess: (created) => setKey(created.key),
  });
  // The deployment key names its deployment whatever the model says; another key of the org needs the
  // deployment's id, as two deployments of one catalog model share its name.
  const snippets = quickStart(baseUrl, key, key ? model : deploymentId, serves);
  return (
    <Card title="Connect">
      <dl className="grid gap-2 text-sm">
        <dt className="text-slate-500">Base URL</dt>
        <dd className="flex items-center gap-2">
          <code className="break-all">{baseUrl}</code>
          <CopyButton text={baseUrl} />
        </dd>
        <dt className="text-slate-500">Deployment key</dt>
        <dd className="flex flex-wrap items-center gap-2">
          {key ? (
            <>
              <code
                data-testid="deployment-key"
                className="break-all rounded bg-amber-50 px-1 dark:bg-amber-950"
              >
                {key}
              </code>
              <CopyButton text={key} />
              <span className="text-xs text-amber-700 dark:text-amber-400">Shown once: store it now.</span>
            </>
          ) : (
            <span className="text-slate-500">Hidden (shown only when created).</span>
          )}
          {can('api_key.manage') && (
            <Button
              variant="secondary"
              onClick={() =>
                window.confirm(
                  'Regenerate the deployment key? The current key stops working at once; clients need the new one.',
                ) && regenerate.mutate()
              }
              disabled={regenerate.isPending}
            >
              Regenerate
            </Button>
          )}
        </dd>
      </dl>
      <ErrorNote error={regenerate.error} />
      <Tabs.Root defaultValue="Python" className="mt-3">
        <Tabs.List aria-label="Quick start language" className="flex gap-1">
          {Object.keys(snippets).map((language) => (
            <Tabs.Trigger
              key={language}
              value={language}
              className="rounded-md px-2 py-1 text-sm data-[state=active]:bg-slate-200 dark:data-[state=active]:bg-slate-800"
            >
              {language}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        {Object.entries(snippets).map(([language, code]) => (
          <Tabs.Content key={language} value={language} className="mt-2">
            <pre
              // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable code block must be reachable by keyboard
              tabIndex={0}
              data-testid={`quick-start-${language}`}
              className="overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100"
            >
              {code}
            </pre>
            <CopyButton text={code} label={`Copy ${language}`} />
          </Tabs.Content>
        ))}
      </Tabs.Root>
    </Card>
  );
}

/** The scaling knobs and spend caps, editable in place; the API's message shows under a refused field. */
function Settings({ deployment, onSaved }: { deployment: DeploymentDetail; onSaved: () => void }) {
  const { can } = useCan();
  const save = useMutation({
    mutationFn: (body: InferRequestType<(typeof api.deployments)[':id']['$patch']>['json']) =>
      unwrap(api.deployments[':id'].$patch({ param: { id: deployment.id }, json: body })),
    onSuccess: onSaved,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    save.mutate({
      min_replicas: Number(form.get('min')),
      max_replicas: Number(form.get('max')),
      idle_timeout_seconds: Number(form.get('idle')),
      concurrency_per_replica: Number(form.get('concurrency')),
      spend_cap: { daily_cents: optionalCents(form, 'daily'), monthly_cents: optionalCents(form, 'monthly') },
    });
  };
  const cap = deployment.spend_cap;
  return (
    <Card title="Configuration" className="mt-4">
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
        {deployment.model ?? deployment.image} on {deployment.gpu_count} × {deployment.gpu_types.join(' → ')}
      </p>
      <form onSubmit={submit}>
        {/* Read-only for a role that may not change it: the API would refuse the save. */}
        <fieldset disabled={!can('endpoint.manage')} className="grid gap-3 sm:grid-cols-3 lg:grid-cols-6">
          <Field
            label="Min replicas"
            name="min"
            type="number"
            min={0}
            max={10}
            defaultValue={deployment.min_replicas}
            error={fieldError(save.error, 'min_replicas')}
          />
          <Field
            label="Max replicas"
            name="max"
            type="number"
            min={1}
            max={20}
            defaultValue={deployment.max_replicas}
            error={fieldError(save.error, 'max_replicas')}
          />
          <Field
            label="Idle timeout (s)"
            name="idle"
            type="number"
            min={10}
            max={86400}
            defaultValue={deployment.idle_timeout_seconds}
            error={fieldError(save.error, 'idle_timeout_seconds')}
          />
          <Field
            label="Concurrency"
            name="concurrency"
            type="number"
            min={1}
            max={256}
            defaultValue={deployment.concurrency_per_replica}
            error={fieldError(save.error, 'concurrency_per_replica')}
          />
          <Field
            label="Daily cap ($)"
            name="daily"
            type="number"
            min={1}
            step={0.01}
            defaultValue={cap?.daily_cents == null ? '' : cap.daily_cents / 100}
            error={fieldError(save.error, 'spend_cap.daily_cents')}
          />
          <Field
            label="Monthly cap ($)"
            name="monthly"
            type="number"
            min={1}
            step={0.01}
            defaultValue={cap?.monthly_cents == null ? '' : cap.monthly_cents / 100}
            error={fieldError(save.error, 'spend_cap.monthly_cents')}
          />
          <div className="flex items-center gap-3 sm:col-span-3 lg:col-span-6">
            {can('endpoint.manage') && (
              <Button type="submit" disabled={save.isPending}>
                Save
              </Button>
            )}
            {save.isSuccess && (
              <span role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
                Saved.
              </span>
            )}
          </div>
        </fieldset>
      </form>
      <ErrorNote error={save.error && !(save.error as { param?: string }).param ? save.error : null} />
    </Card>
  );
}

/** Says whether the page follows the deployment live or falls back to re-reading it every few seconds. */
function LiveBadge({ live }: { live: boolean }) {
  return live ? <Badge tone="green">● Live</Badge> : <Badge>Refreshing every 3 s</Badge>;
}

/** The log tail, kept scrolled to the newest line unless the reader has scrolled up. */
function LogView({ lines }: { lines: string[] }) {
  const view = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    if (pinned.current && view.current) view.current.scrollTop = view.current.scrollHeight;
  });
  return (
    <pre
      ref={view}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable log must be reachable by keyboard
      tabIndex={0}
      onScroll={(event) => {
        const pre = event.currentTarget;
        pinned.current = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
      }}
      className="max-h-72 overflow-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100"
      aria-live="polite"
    >
      {lines.join('\n')}
    </pre>
  );
}

export default function Deployment() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  // Set while the status stream delivers; the reads below poll only when it does not.
  const [live, setLive] = useState(false);
  const deployment = useQuery({
    queryKey: deploymentKeys.detail(id),
    queryFn: () => unwrap(api.deployments[':id'].$get({ param: { id } })),
    // The stream below keeps the runtime current; this read catches configuration changes.
    refetchInterval: () => (live ? 30_000 : 2_000),
  });
  const [windowMinutes, setWindowMinutes] = useState(60);
  const metrics = useQuery({
    queryKey: ['metrics', id, windowMinutes],
    queryFn: () =>
      unwrap(
        api.deployments[':id'].metrics.$get({ param: { id }, query: { window_minutes: windowMinutes } }),
      ),
    refetchInterval: 10_000,
  });
  const events = useQuery({
    queryKey: deploymentKeys.events(id),
    queryFn: () => unwrap(api.deployments[':id'].events.$get({ param: { id }, query: {} })),
    refetchInterval: () => (live ? false : 3_000),
  });
  const logs = useQuery({
    queryKey: deploymentKeys.logs(id),
    queryFn: () => unwrap(api.deployments[':id'].logs.$get({ param: { id }, query: {} })),
    refetchInterval: () => (live ? false : 3_000),
  });
  useDeploymentStream(id, deployment.isSuccess && events.isSuccess && logs.isSuccess, setLive);
  const catalog = useCatalog();
  const { can } = useCan();
  const act = useMutation({
    mutationFn: async (action: 'stop' | 'start' | 'delete') => {
      if (action === 'delete') return unwrap(api.deployments[':id'].$delete({ param: { id } }));
      return unwrap(
        action === 'stop'
          ? api.deployments[':id'].stop.$post({ param: { id } })
          : api.deployments[':id'].start.$post({ param: { id } }),
      );
    },
    onSuccess: (_, action) => {
      void client.invalidateQueries({ queryKey: ['deployments'] });
      if (action === 'delete') navigate('/');
      else void deployment.refetch();
    },
  });
  if (deployment.isPending) return <Loading />;
  // Gone (a teammate deleted it) or out of reach: said, instead of the last figures left on screen; a
  // passing failure of one refresh leaves them.
  const gone = deployment.error instanceof ApiError && [403, 404].includes(deployment.error.status);
  if (!deployment.data || gone) return <ErrorNote error={deployment.error} />;
  const { runtime } = deployment.data;
  return (
    <>
      <PageTitle
        actions={
          can('endpoint.manage') && (
            <div className="flex gap-2">
              {deployment.data.state === 'active' ? (
                <Button
                  variant="secondary"
                  disabled={act.isPending}
                  onClick={() => confirmStop(deployment.data.name) && act.mutate('stop')}
                >
                  Stop
                </Button>
              ) : (
                <Button variant="secondary" disabled={act.isPending} onClick={() => act.mutate('start')}>
                  Start
                </Button>
              )}
              <Button
                variant="danger"
                disabled={act.isPending}
                onClick={() =>
                  window.confirm(`Delete ${deployment.data.name}? Its keys stop working.`) &&
                  act.mutate('delete')
                }
              >
                Delete
              </Button>
            </div>
          )
        }
      >
        {deployment.data.name}{' '}
        <Badge tone={statusTone[runtime.status]}>{runtime.status.replaceAll('_', ' ')}</Badge>
      </PageTitle>
      <ErrorNote error={act.error} />
      {runtime.failed_starts > 0 && (
        <p className="mb-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800" role="status">
          {runtime.failed_starts} failed {runtime.failed_starts === 1 ? 'start' : 'starts'} in a row: each
          next start waits longer, and 10 stop the deployment. The events below say why each failed.
        </p>
      )}
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Card title="Replicas">
          <p className="text-2xl font-semibold">
            {runtime.replicas.active}
            <span className="text-sm text-slate-500"> active · {runtime.replicas.starting} starting</span>
          </p>
        </Card>
        <Card title="Queue">
          <p className="text-2xl font-semibold">
            {runtime.queue.queued}
            <span className="text-sm text-slate-500"> waiting · {runtime.queue.running} running</span>
          </p>
        </Card>
        <Card title="Cost now">
          <p className="text-2xl font-semibold" data-testid="cost-per-hour">
            {usd(runtime.cost.per_hour_usd)}
            <span className="text-sm text-slate-500">/hr</span>
          </p>
        </Card>
        <Card title="Total cost">
          <p className="text-2xl font-semibold" data-testid="total-cost">
            {usd(runtime.cost.total_usd)}
          </p>
          <p className="text-xs text-slate-500">today {usd(runtime.cost.today_usd)}</p>
        </Card>
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        <Connection
          deploymentId={id}
          model={deployment.data.model ?? deployment.data.name}
          serves={servesOf(
            catalog.data?.data.find((entry) => entry.slug === deployment.data.model)?.category,
            deployment.data.engine,
          )}
        />
        <Card
          title={windowMinutes === 60 ? 'Traffic (last hour)' : 'Traffic (last 24 hours)'}
          actions={
            <fieldset className="flex gap-1">
              <legend className="sr-only">Window</legend>
              {[
                [60, '1 h'],
                [1440, '24 h'],
              ].map(([minutes, label]) => (
                <Button
                  key={label}
                  variant="secondary"
                  aria-pressed={windowMinutes === minutes}
                  className={windowMinutes === minutes ? 'ring-2 ring-brand-500' : ''}
                  onClick={() => setWindowMinutes(Number(minutes))}
                >
                  {label}
                </Button>
              ))}
            </fieldset>
          }
        >
          {metrics.data ? (
            <>
              <p className="mb-2 text-sm" data-testid="requests-count">
                {metrics.data.requests} requests · {metrics.data.failures} failed · p50{' '}
                {metrics.data.latency_ms.p50 ?? '–'} ms · p99 {metrics.data.latency_ms.p99 ?? '–'} ms ·{' '}
                {metrics.data.gpu_seconds.toFixed(1)} GPU s
              </p>
              <Suspense fallback={<Loading label="Loading chart…" />}>
                <TrafficChart data={metrics.data.per_minute} />
              </Suspense>
              <Suspense fallback={<Loading label="Loading chart…" />}>
                <LatencyChart data={metrics.data.per_minute} />
              </Suspense>
              <p className="mb-2 mt-4 text-sm" data-testid="uptime">
                {(metrics.data.uptime_seconds / 3600).toFixed(2)} replica-hours up
                {metrics.data.utilisation !== null &&
                  ` · ${Math.round(metrics.data.utilisation * 100)}% busy`}
              </p>
              <Suspense fallback={<Loading label="Loading chart…" />}>
                <UptimeChart data={metrics.data.per_minute} />
              </Suspense>
            </>
          ) : metrics.error ? (
            <ErrorNote error={metrics.error} />
          ) : (
            <Loading />
          )}
        </Card>
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        <Card title="Replica events" actions={<LiveBadge live={live} />}>
          <ErrorNote error={events.error} />
          {events.data?.data.length === 0 && (
            <Empty>No replica has started yet. The first request starts one.</Empty>
          )}
          <ol className="flex max-h-72 flex-col gap-1 overflow-y-auto text-sm">
            {events.data?.data.map((event) => (
              <li key={event.id}>
                <Badge>{event.state}</Badge>{' '}
                <span className="text-slate-500">{dateTime(event.created_at)}</span> {event.detail}
              </li>
            ))}
          </ol>
        </Card>
        <Card title="Logs" actions={<LiveBadge live={live} />}>
          <ErrorNote error={logs.error} />
          {logs.data?.data.length === 0 && <Empty>No log lines yet.</Empty>}
          <LogView lines={logs.data?.data.map((entry) => entry.line) ?? []} />
        </Card>
      </div>
      <Settings deployment={deployment.data} onSaved={() => void deployment.refetch()} />
    </>
  );
}
