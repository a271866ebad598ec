import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api, forgetOrg, unwrap } from '../api/client.ts';
import {
  Badge,
  Button,
  Card,
  Empty,
  ErrorNote,
  Field,
  fieldError,
  formError,
  Loading,
  PageTitle,
} from '../components/ui.tsx';
import { dateTime } from '../lib/format.ts';
import { useCan, useMe, useSwitchOrg } from '../lib/session.ts';

const ROLES = ['owner', 'admin', 'developer', 'billing', 'viewer'] as const;
type Role = (typeof ROLES)[number];
const select =
  'rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900';

/** The org: its members and roles, invitations, and new team orgs. */
export default function Members() {
  const client = useQueryClient();
  const me = useMe();
  const { can, mayGrant } = useCan();
  const navigate = useNavigate();
  const switchOrg = useSwitchOrg();
  const members = useQuery({ queryKey: ['members'], queryFn: () => unwrap(api.org.members.$get()) });
  const invitations = useQuery({
    queryKey: ['invitations'],
    queryFn: () => unwrap(api.org.invitations.$get()),
    retry: false,
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['members'] });
    void client.invalidateQueries({ queryKey: ['invitations'] });
  };
  const changeRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) =>
      unwrap(api.org.members[':user_id'].$patch({ param: { user_id: userId }, json: { role } })),
    onSuccess: () => {
      refresh();
      // A demotion revokes keys above the new role (maybe the caller's own): what they show changes.
      void client.invalidateQueries({ queryKey: ['me'] });
      void client.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  /** A role change can revoke keys and invitations that rise above it: asked first, never on a keystroke. */
  const confirmRole = (member: { user_id: string; email: string; role: string }, role: Role) => {
    if (role === member.role) return;
    const demoted = ROLES.indexOf(role) > ROLES.indexOf(member.role as Role);
    const warning = demoted
      ? ` Their API keys and invitations above ${role} are revoked, and clients using those keys stop working.`
      : '';
    if (
      window.confirm(
        `Make ${member.email} ${role === 'admin' || role === 'owner' ? 'an' : 'a'} ${role}?${warning}`,
      )
    )
      changeRole.mutate({ userId: member.user_id, role });
  };
  const remove = useMutation({
    mutationFn: (userId: string) =>
      unwrap(api.org.members[':user_id'].$delete({ param: { user_id: userId } })),
    onSuccess: (_removed, userId) => {
      if (userId !== me.data?.user.id) return refresh();
      // Left: back to the personal org, with nothing of the one left on screen (header, balance, lists).
      forgetOrg();
      void client.resetQueries();
      navigate('/');
    },
  });
  const invite = useMutation({
    mutationFn: (body: { email: string; role: Role; form: HTMLFormElement }) =>
      unwrap(api.org.invitations.$post({ json: { email: body.email, role: body.role } })),
    // Cleared once sent: a refused invitation keeps the address to fix.
    onSuccess: (_sent, { form }) => {
      form.reset();
      refresh();
    },
  });
  const cancel = useMutation({
    mutationFn: (id: string) => unwrap(api.org.invitations[':id'].$delete({ param: { id } })),
    onSuccess: refresh,
  });
  const createOrg = useMutation({
    mutationFn: (name: string) => unwrap(api.orgs.$post({ json: { name } })),
    onSuccess: (org) => switchOrg(org.id),
  });
  const submitInvite = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    invite.mutate({
      email: String(form.get('email')),
      role: form.get('role') as Role,
      form: event.currentTarget,
    });
  };
  const submitOrg = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    createOrg.mutate(String(new FormData(event.currentTarget).get('name')));
  };
  return (
    <>
      <PageTitle>Organization</PageTitle>
      <Card title="Members">
        {members.isPending && <Loading />}
        <ErrorNote error={members.error ?? changeRole.error ?? remove.error} />
        <ul className="flex flex-col divide-y divide-slate-100 dark:divide-slate-800">
          {members.data?.data.map((member) => (
            <li
              key={member.user_id}
              className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm"
            >
              <div className="min-w-0">
                <p className="truncate font-medium">
                  {member.name ?? member.email} {member.user_id === me.data?.user.id && <Badge>you</Badge>}
                </p>
                <p className="truncate text-slate-500">
                  {member.email} · joined {dateTime(member.joined_at)}
                </p>
              </div>
              <div className="flex items-center gap-2">
                <label className="sr-only" htmlFor={`role-${member.user_id}`}>
                  Role of {member.email}
                </label>
                <select
                  id={`role-${member.user_id}`}
                  className={select}
                  value={member.role}
                  disabled={changeRole.isPending || !can('member.manage')}
                  onChange={(event) => confirmRole(member, event.target.value as Role)}
                >
                  {/* The roles this user may give, and the member's own (shown even when it may not). */}
                  {ROLES.filter((role) => role === member.role || mayGrant(role)).map((role) => (
                    <option key={role} value={role}>
                      {role}
                    </option>
                  ))}
                </select>
                {member.user_id === me.data?.user.id ? (
                  <Button
                    variant="secondary"
                    onClick={() =>
                      window.confirm(
                        'Leave this organization? Your API keys in it are revoked, and clients using them stop working.',
                      ) && remove.mutate(member.user_id)
                    }
                  >
                    Leave
                  </Button>
                ) : (
                  can('member.manage') && (
                    <Button
                      variant="secondary"
                      aria-label={`Remove ${member.email}`}
                      onClick={() =>
                        window.confirm(`Remove ${member.email} from the organization?`) &&
                        remove.mutate(member.user_id)
                      }
                    >
                      Remove
                    </Button>
                  )
                )}
              </div>
            </li>
          ))}
        </ul>
      </Card>
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        {can('invitation.manage') && (
          <Card title="Invite someone">
            <form onSubmit={submitInvite} className="grid gap-3 sm:grid-cols-3">
              <Field
                label="Email"
                name="email"
                type="email"
                required
                className="sm:col-span-2"
                error={fieldError(invite.error, 'email')}
              />
              <div className="flex flex-col gap-1">
                <label htmlFor="invite-role" className="text-sm font-medium">
                  Role
                </label>
                <select id="invite-role" name="role" defaultValue="developer" className={select}>
                  {ROLES.filter(mayGrant).map((role) => (
                    <option key={role} value={role}>
                      {role}
                    </option>
                  ))}
                </select>
              </div>
              <Button type="submit" disabled={invite.isPending} className="sm:col-span-3">
                Send invitation
              </Button>
            </form>
            <ErrorNote error={formError(invite.error, ['email'])} />
            <h3 className="mt-4 text-sm font-semibold">Pending invitations</h3>
            {invitations.error ? (
              <p className="text-sm text-slate-500">Only owners and admins see invitations.</p>
            ) : null}
            {invitations.data?.data.length === 0 && <Empty>No pending invitations.</Empty>}
            <ul className="text-sm">
              {invitations.data?.data.map((invitation) => (
                <li key={invitation.id} className="flex items-center justify-between gap-2 py-1">
                  <span className="truncate">
                    {invitation.email} <Badge>{invitation.role}</Badge>
                  </span>
                  <Button
                    variant="secondary"
                    aria-label={`Cancel the invitation of ${invitation.email}`}
                    disabled={cancel.isPending}
                    onClick={() =>
                      window.confirm(`Cancel the invitation of ${invitation.email}?`) &&
                      cancel.mutate(invitation.id)
                    }
                  >
                    Cancel
                  </Button>
                </li>
              ))}
            </ul>
            <ErrorNote error={cancel.error} />
          </Card>
        )}
        <Card title="New team organization">
          <form onSubmit={submitOrg} className="flex flex-wrap items-end gap-2">
            <Field
              label="Name"
              name="name"
              required
              maxLength={100}
              error={fieldError(createOrg.error, 'name')}
            />
            <Button type="submit" disabled={createOrg.isPending}>
              Create and switch
            </Button>
          </form>
          <ErrorNote error={formError(createOrg.error, ['name'])} />
          <p className="mt-2 text-xs text-slate-500">
            You become its owner. Balances, deployments and keys belong to one organization each.
          </p>
        </Card>
      </div>
    </>
  );
}
