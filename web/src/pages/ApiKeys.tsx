import * as Dialog from '@radix-ui/react-dialog';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import {
  Badge,
  Button,
  Card,
  CopyButton,
  Empty,
  ErrorNote,
  Field,
  fieldError,
  formError,
  Loading,
  PageTitle,
} from '../components/ui.tsx';
import { dateTime, dollarsToCents, optionalCents, usd } from '../lib/format.ts';
import { allPages } from '../lib/pages.ts';
import { useCan } from '../lib/session.ts';

const ROLES = ['admin', 'developer', 'billing', 'viewer'] as const;

function SecretDialog({ secret, onClose }: { secret: string | null; onClose: () => void }) {
  return (
    <Dialog.Root open={secret !== null} onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 bg-black/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 w-[min(92vw,32rem)] -translate-x-1/2 -translate-y-1/2 rounded-lg bg-white p-5 shadow-xl dark:bg-slate-900">
          <Dialog.Title className="text-lg font-semibold">Your new key</Dialog.Title>
          <Dialog.Description className="mt-1 text-sm text-slate-600 dark:text-slate-400">
            It is shown this once. Store it in a secret manager now.
          </Dialog.Description>
          <code
            data-testid="new-key"
            className="mt-3 block break-all rounded bg-slate-100 p-2 text-sm dark:bg-slate-800"
          >
            {secret}
          </code>
          <div className="mt-4 flex justify-end gap-2">
            {secret && <CopyButton text={secret} />}
            <Dialog.Close asChild>
              <Button>Done</Button>
            </Dialog.Close>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

interface CapTarget {
  id: string;
  name: string;
  spend_cap: { daily_cents: number | null; monthly_cents: number | null };
}

/** A key's daily and monthly spend caps (empty: no cap). */
function CapDialog({ target, onClose }: { target: CapTarget | null; onClose: () => void }) {
  const client = useQueryClient();
  const save = useMutation({
    mutationFn: (spend_cap: { daily_cents: number | null; monthly_cents: number | null }) =>
      unwrap(api.auth['api-keys'][':id'].$patch({ param: { id: target?.id ?? '' }, json: { spend_cap } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['api-keys'] });
      onClose();
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    save.mutate({ daily_cents: optionalCents(form, 'daily'), monthly_cents: optionalCents(form, 'monthly') });
  };
  return (
    <Dialog.Root open={target !== null} onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 bg-black/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 w-[min(92vw,28rem)] -translate-x-1/2 -translate-y-1/2 rounded-lg bg-white p-5 shadow-xl dark:bg-slate-900">
          <Dialog.Title className="text-lg font-semibold">Spend caps of {target?.name}</Dialog.Title>
          <Dialog.Description className="mt-1 text-sm text-slate-600 dark:text-slate-400">
            On the GPU time of this key's requests. Past a cap the key gets 402 until the next UTC day or
            month; other keys keep working. A capped key reads and runs inference only: it cannot manage
            deployments, keys, members or billing.
          </Dialog.Description>
          <form onSubmit={submit} className="mt-3 grid gap-3 sm:grid-cols-2">
            <Field
              label="Per day ($)"
              name="daily"
              type="number"
              min={1}
              step={0.01}
              defaultValue={target?.spend_cap.daily_cents == null ? '' : target.spend_cap.daily_cents / 100}
              error={fieldError(save.error, 'spend_cap.daily_cents')}
            />
            <Field
              label="Per month ($)"
              name="monthly"
              type="number"
              min={1}
              step={0.01}
              defaultValue={
                target?.spend_cap.monthly_cents == null ? '' : target.spend_cap.monthly_cents / 100
              }
              error={fieldError(save.error, 'spend_cap.monthly_cents')}
            />
            <div className="sm:col-span-2">
              <ErrorNote
                error={formError(save.error, ['spend_cap.daily_cents', 'spend_cap.monthly_cents'])}
              />
            </div>
            <div className="flex justify-end gap-2 sm:col-span-2">
              <Dialog.Close asChild>
                <Button variant="secondary">Cancel</Button>
              </Dialog.Close>
              <Button type="submit" disabled={save.isPending}>
                Save caps
              </Button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export default function ApiKeys() {
  const { mayGrant } = useCan();
  const [capping, setCapping] = useState<CapTarget | null>(null);
  const client = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const keys = useQuery({
    queryKey: ['api-keys'],
    // Every key, not the first hundred: each deployment adds one.
    queryFn: () => allPages((after) => unwrap(api.auth['api-keys'].$get({ query: { limit: 100, after } }))),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ['api-keys'] });
  const create = useMutation({
    mutationFn: ({
      form: _form,
      ...body
    }: {
      name: string;
      role: (typeof ROLES)[number];
      spend_cap?: { daily_cents: number };
      form: HTMLFormElement;
    }) => unwrap(api.auth['api-keys'].$post({ json: { kind: 'account', ...body } })),
    // Cleared once made, so a second click cannot make a twin key; a refused one keeps what to fix.
    onSuccess: (created, { form }) => {
      form.reset();
      setSecret(created.key);
      void refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.auth['api-keys'][':id'].$delete({ param: { id } })),
    onSuccess: () => void refresh(),
  });
  const regenerate = useMutation({
    mutationFn: (id: string) => unwrap(api.auth['api-keys'][':id'].regenerate.$post({ param: { id } })),
    onSuccess: (created) => {
      setSecret(created.key);
      void refresh();
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const cap = Number(form.get('cap'));
    create.mutate({
      form: event.currentTarget,
      name: String(form.get('name')),
      role: form.get('role') as (typeof ROLES)[number],
      ...(cap > 0 ? { spend_cap: { daily_cents: dollarsToCents(cap) } } : {}),
    });
  };
  return (
    <>
      <PageTitle>API keys</PageTitle>
      <Card title="Create an account key">
        <form onSubmit={submit} className="grid gap-3 sm:grid-cols-4">
          <Field label="Name" name="name" required maxLength={100} error={fieldError(create.error, 'name')} />
          <div className="flex flex-col gap-1">
            <label htmlFor="role" className="text-sm font-medium">
              Role
            </label>
            <select
              id="role"
              name="role"
              defaultValue="developer"
              className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900"
            >
              {/* Only roles this user may give: the API refuses a key above the caller's own role. */}
              {ROLES.filter(mayGrant).map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
          </div>
          <Field
            label="Daily spend cap ($, optional)"
            name="cap"
            type="number"
            min={1}
            step={1}
            error={fieldError(create.error, 'spend_cap.daily_cents')}
          />
          <div className="flex items-end">
            <Button type="submit" disabled={create.isPending}>
              Create key
            </Button>
          </div>
        </form>
        <ErrorNote error={formError(create.error, ['name', 'spend_cap.daily_cents'])} />
      </Card>
      <Card title="Keys" className="mt-4">
        {keys.isPending && <Loading />}
        <ErrorNote error={keys.error ?? revoke.error ?? regenerate.error} />
        {keys.data?.data.length === 0 && <Empty>No keys yet.</Empty>}
        <ul className="flex flex-col divide-y divide-slate-100 dark:divide-slate-800">
          {keys.data?.data.map((key) => (
            <li
              key={key.id}
              className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm"
              data-testid={`key-${key.id}`}
            >
              <div>
                <p className="font-medium">
                  {key.name}{' '}
                  <Badge tone={key.kind === 'deployment' ? 'blue' : 'slate'}>
                    {key.kind === 'deployment' ? 'deployment' : key.role}
                  </Badge>
                </p>
                <p className="text-slate-500">
                  <code>
                    {key.prefix}…{key.last_four}
                  </code>{' '}
                  · created {dateTime(key.created_at)} ·{' '}
                  {key.last_used_at ? `used ${dateTime(key.last_used_at)}` : 'never used'}
                  {key.spend_cap.daily_cents !== null && ` · cap ${usd(key.spend_cap.daily_cents / 100)}/day`}
                  {key.spend_cap.monthly_cents !== null &&
                    ` · cap ${usd(key.spend_cap.monthly_cents / 100)}/month`}
                </p>
              </div>
              <div className="flex gap-2">
                <Button
                  variant="secondary"
                  aria-label={`Caps of ${key.name}`}
                  onClick={() => setCapping(key)}
                >
                  Caps
                </Button>
                <Button
                  variant="secondary"
                  aria-label={`Regenerate ${key.name}`}
                  onClick={() =>
                    window.confirm(
                      `Regenerate ${key.name}? Its current secret stops working at once; clients need the new one.`,
                    ) && regenerate.mutate(key.id)
                  }
                >
                  Regenerate
                </Button>
                <Button
                  variant="danger"
                  aria-label={`Revoke ${key.name}`}
                  onClick={() =>
                    window.confirm(`Revoke ${key.name}? It stops working at once.`) && revoke.mutate(key.id)
                  }
                >
                  Revoke
                </Button>
              </div>
            </li>
          ))}
        </ul>
      </Card>
      <SecretDialog secret={secret} onClose={() => setSecret(null)} />
      <CapDialog target={capping} onClose={() => setCapping(null)} />
    </>
  );
}
