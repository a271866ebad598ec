import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import { Badge, Button, Card, CopyButton, Empty, ErrorNote, Loading, PageTitle } from '../components/ui.tsx';
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

interface SigningSecretView {
  secret: string;
  previous_secret_expires_at: string | null;
}

/**
 * The org's webhook signing secret: read only when asked for (it stays off the screen otherwise), and
 * rotated after a confirmation that says the old one keeps signing for a day.
 */
function SigningSecret() {
  const [shown, setShown] = useState<SigningSecretView | null>(null);
  const reveal = useMutation({
    mutationFn: () => unwrap(api.org['webhook-secret'].$get()),
    onSuccess: setShown,
  });
  const rotate = useMutation({
    mutationFn: () => unwrap(api.org['webhook-secret'].rotate.$post()),
    onSuccess: setShown,
  });
  const confirmRotate = () => {
    if (
      window.confirm(
        'Rotate the webhook signing secret? Deliveries carry a signature from both the new and the old secret for 24 hours; update your receivers within that time.',
      )
    ) {
      rotate.mutate();
    }
  };
  return (
    <Card
      title="Signing secret"
      className="mb-4"
      actions={
        <div className="flex gap-2">
          {shown ? (
            <Button variant="secondary" onClick={() => setShown(null)}>
              Hide secret
            </Button>
          ) : (
            <Button variant="secondary" onClick={() => reveal.mutate()} disabled={reveal.isPending}>
              Reveal secret
            </Button>
          )}
          <Button variant="secondary" onClick={confirmRotate} disabled={rotate.isPending}>
            Rotate secret
          </Button>
        </div>
      }
    >
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Deliveries are signed the Standard Webhooks way (<code>webhook-id</code>,{' '}
        <code>webhook-timestamp</code>, <code>webhook-signature</code>); verify them with this secret. Owners
        and admins can see and rotate it.
      </p>
      <ErrorNote error={reveal.error ?? rotate.error} />
      {shown && (
        <div className="mt-3 flex flex-wrap items-center gap-2">
          <code
            data-testid="webhook-secret"
            className="min-w-0 break-all rounded bg-slate-100 p-2 text-sm dark:bg-slate-800"
          >
            {shown.secret}
          </code>
          <CopyButton text={shown.secret} />
          {shown.previous_secret_expires_at && (
            <p role="status" className="w-full text-sm text-slate-600 dark:text-slate-400">
              The previous secret also signs deliveries until {dateTime(shown.previous_secret_expires_at)}.
            </p>
          )}
        </div>
      )}
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
      <SigningSecret />
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
