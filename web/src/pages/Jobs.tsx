import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../api/client.ts';
import { Badge, Button, Card, Empty, ErrorNote, Loading, PageTitle } from '../components/ui.tsx';
import { dateTime, usd } from '../lib/format.ts';

const tone = { succeeded: 'green', pending: 'amber', failed: 'red' } as const;

const jobTone = {
  succeeded: 'green',
  queued: 'amber',
  running: 'blue',
  failed: 'red',
  cancelled: 'slate',
  timed_out: 'red',
} as const;

function RecentJobs() {
  const jobs = useQuery({
    queryKey: ['jobs'],
    queryFn: () => unwrap(api.jobs.$get({ query: { limit: 50 } })),
    refetchInterval: 5_000,
  });
  return (
    <Card title="Recent async jobs" className="mb-4">
      {jobs.isPending && <Loading />}
      <ErrorNote error={jobs.error} />
      {jobs.data?.data.length === 0 && <Empty>No async jobs yet.</Empty>}
      <ul className="flex flex-col divide-y divide-slate-100 dark:divide-slate-800">
        {jobs.data?.data.map((job) => (
          <li key={job.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
            <span className="min-w-0 truncate">
              <Badge tone={jobTone[job.status as keyof typeof jobTone] ?? 'slate'}>{job.status}</Badge>{' '}
              <code>{job.id}</code> · {job.kind}
            </span>
            <span className="text-slate-500">
              {dateTime(job.created_at)}
              {job.gpu_seconds !== null && ` · ${job.gpu_seconds.toFixed(2)} GPU s`}
              {job.cost_usd !== null && ` · ${usd(job.cost_usd)}`}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** Async jobs, and their webhook deliveries: each attempt with its answer, and replay. */
export default function Jobs() {
  const client = useQueryClient();
  const deliveries = useQuery({
    queryKey: ['webhook-deliveries'],
    queryFn: () => unwrap(api['webhook-deliveries'].$get({ query: { limit: 50 } })),
    refetchInterval: 5_000,
  });
  const replay = useMutation({
    mutationFn: (id: string) => unwrap(api['webhook-deliveries'][':id'].replay.$post({ param: { id } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['webhook-deliveries'] }),
  });
  return (
    <>
      <PageTitle>Jobs & webhooks</PageTitle>
      <p className="mb-4 text-sm text-slate-600 dark:text-slate-400">
        Async jobs (a <code>webhook</code> field or <code>Prefer: respond-async</code>) answer 202 at once;
        follow one at <code>GET /v1/jobs/&#123;id&#125;</code>. Their webhook deliveries are listed here.
      </p>
      <RecentJobs />
      <Card title="Webhook deliveries">
        {deliveries.isPending && <Loading />}
        <ErrorNote error={deliveries.error ?? replay.error} />
        {deliveries.data?.data.length === 0 && <Empty>No webhook deliveries yet.</Empty>}
        <ul className="flex flex-col divide-y divide-slate-100 dark:divide-slate-800">
          {deliveries.data?.data.map((delivery) => (
            <li key={delivery.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
              <div className="min-w-0">
                <p>
                  <Badge tone={tone[delivery.status as keyof typeof tone] ?? 'slate'}>
                    {delivery.status}
                  </Badge>{' '}
                  {delivery.event} · job <code>{delivery.job_id}</code>
                </p>
                <p className="truncate text-slate-500">
                  {delivery.url} · {delivery.attempts.length} attempt(s)
                  {delivery.attempts.at(-1) &&
                    ` · last ${delivery.attempts.at(-1)?.status_code ?? delivery.attempts.at(-1)?.error} at ${dateTime(delivery.attempts.at(-1)?.at ?? delivery.updated_at)}`}
                </p>
              </div>
              <Button
                variant="secondary"
                onClick={() => replay.mutate(delivery.id)}
                disabled={replay.isPending}
              >
                Replay
              </Button>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}
