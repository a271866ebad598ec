import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { api, unwrap } from '../api/client.ts';
import {
  Badge,
  Button,
  Card,
  ErrorNote,
  Field,
  fieldError,
  formError,
  Loading,
  PageTitle,
} from '../components/ui.tsx';
import { dateTime } from '../lib/format.ts';
import { useMe } from '../lib/session.ts';

/** A user agent, shortened to what tells one device from another. */
const device = (userAgent: string | null) => {
  if (!userAgent) return 'Unknown client';
  const browser = /(Edg|Firefox|Chrome|Safari)\/[\d.]+/.exec(userAgent)?.[0]?.replace('Edg', 'Edge');
  const system = /\((Windows|Macintosh|iPhone|iPad|Android|Linux|X11)[^;)]*/.exec(userAgent)?.[1];
  return browser ? `${browser.split('.')[0]}${system ? ` on ${system}` : ''}` : userAgent.slice(0, 60);
};

const PASSWORD_FIELDS = ['current_password', 'new_password'] as const;

/** Changes the password with the current one; the other sessions end, so the list is read again. */
function ChangePassword({ onChanged }: { onChanged: () => void }) {
  const change = useMutation({
    mutationFn: (body: { current_password: string; new_password: string; form: HTMLFormElement }) =>
      unwrap(
        api.auth.password.$post({
          json: { current_password: body.current_password, new_password: body.new_password },
        }),
      ),
    onSuccess: (_result, body) => {
      body.form.reset();
      onChanged();
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    change.mutate({
      current_password: String(form.get('current_password')),
      new_password: String(form.get('new_password')),
      form: event.currentTarget,
    });
  };
  return (
    <Card title="Password" className="mb-4">
      <form onSubmit={submit} className="flex max-w-sm flex-col gap-3">
        <Field
          label="Current password"
          name="current_password"
          type="password"
          autoComplete="current-password"
          required
          error={fieldError(change.error, 'current_password')}
        />
        <Field
          label="New password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="At least 10 characters. Your other sessions are signed out."
          error={fieldError(change.error, 'new_password')}
        />
        <ErrorNote error={formError(change.error, PASSWORD_FIELDS)} />
        {change.data && (
          <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
            Password changed; {change.data.sessions_signed_out} other session
            {change.data.sessions_signed_out === 1 ? ' was' : 's were'} signed out.
          </p>
        )}
        <div>
          <Button type="submit" disabled={change.isPending}>
            Change password
          </Button>
        </div>
      </form>
    </Card>
  );
}

/** The signed-in person: who they are, and every browser or CLI signed in as them, each one revocable. */
export default function Account() {
  const client = useQueryClient();
  const me = useMe();
  const sessions = useQuery({
    queryKey: ['sessions'],
    queryFn: () => unwrap(api.auth.sessions.$get()),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ['sessions'] });
  const signOut = useMutation({
    mutationFn: (id: string) => unwrap(api.auth.sessions[':id'].$delete({ param: { id } })),
    onSuccess: refresh,
  });
  const signOutOthers = useMutation({
    mutationFn: () => unwrap(api.auth.sessions['revoke-others'].$post()),
    onSuccess: refresh,
  });
  const others = sessions.data?.data.filter((session) => !session.current).length ?? 0;
  const confirmOthers = () => {
    if (
      window.confirm(`Sign out ${others} other session${others === 1 ? '' : 's'}? They must log in again.`)
    ) {
      signOutOthers.mutate();
    }
  };
  return (
    <>
      <PageTitle>Account</PageTitle>
      {me.data && (
        <Card title="Profile" className="mb-4">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
            <dt className="text-slate-500">Email</dt>
            <dd className="min-w-0 break-all">
              {me.data.user.email}{' '}
              {me.data.user.email_verified ? (
                <Badge tone="green">verified</Badge>
              ) : (
                <Badge tone="amber">not verified</Badge>
              )}
            </dd>
            <dt className="text-slate-500">Name</dt>
            <dd>{me.data.user.name ?? '—'}</dd>
            <dt className="text-slate-500">Member since</dt>
            <dd>{dateTime(me.data.user.created_at)}</dd>
          </dl>
        </Card>
      )}
      <ChangePassword onChanged={refresh} />
      <Card
        title="Signed-in sessions"
        actions={
          others > 0 && (
            <Button variant="secondary" onClick={confirmOthers} disabled={signOutOthers.isPending}>
              Sign out everywhere else
            </Button>
          )
        }
      >
        <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">
          Every browser and script signed in as you. Signing one out ends it at once; API keys are not
          affected.
        </p>
        {sessions.isPending && <Loading />}
        <ErrorNote error={sessions.error ?? signOut.error ?? signOutOthers.error} />
        <ul className="flex flex-col divide-y divide-slate-100 dark:divide-slate-800">
          {sessions.data?.data.map((session) => (
            <li
              key={session.id}
              data-testid="session"
              className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm"
            >
              <div className="min-w-0">
                <p>
                  {device(session.user_agent)} {session.current && <Badge tone="blue">this session</Badge>}
                </p>
                <p className="text-slate-500">
                  {session.ip ?? 'unknown address'} · signed in {dateTime(session.created_at)} · last active{' '}
                  {dateTime(session.last_active_at)}
                </p>
              </div>
              {!session.current && (
                <Button
                  variant="secondary"
                  onClick={() => signOut.mutate(session.id)}
                  disabled={signOut.isPending}
                  aria-label={`Sign out ${device(session.user_agent)} from ${session.ip ?? 'unknown address'}`}
                >
                  Sign out
                </Button>
              )}
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}
