import * as Label from '@radix-ui/react-label';
import * as Switch from '@radix-ui/react-switch';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, lazy, Suspense, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { ApiError, api, unwrap } from '../api/client.ts';
import {
  Button,
  Card,
  Empty,
  ErrorNote,
  Field,
  fieldError,
  formError,
  Loading,
  PageTitle,
  ScrollTable,
} from '../components/ui.tsx';
import { dateTime, dollarsToCents, hours, usd } from '../lib/format.ts';
import { type BillingSettings, useBalance, useUsage } from '../lib/queries.ts';
import { useCan } from '../lib/session.ts';

const SpendChart = lazy(() =>
  import('../components/Charts.tsx').then((module) => ({ default: module.SpendChart })),
);

function AddFunds() {
  const [custom, setCustom] = useState('');
  const checkout = useMutation({
    mutationFn: async (amountCents: number) => {
      const session = await unwrap(
        api.billing['add-funds'].$post({ json: { amount_cents: amountCents, currency: 'usd' } }),
      );
      if (!session.checkout_url) throw new Error('Stripe did not return a payment page. Try again.');
      return session.checkout_url;
    },
    // Stripe's page takes the card; the balance rises when Stripe confirms the payment.
    onSuccess: (url) => window.location.assign(url),
  });
  const submitCustom = (event: FormEvent) => {
    event.preventDefault();
    checkout.mutate(dollarsToCents(Number(custom)));
  };
  return (
    <Card title="Add funds">
      <div className="flex flex-wrap gap-2">
        {[25, 50, 100].map((dollars) => (
          <Button
            key={dollars}
            onClick={() => checkout.mutate(dollarsToCents(dollars))}
            disabled={checkout.isPending}
          >
            Add ${dollars}
          </Button>
        ))}
      </div>
      <form className="mt-3 flex flex-wrap items-end gap-2" onSubmit={submitCustom}>
        <Field
          label="Custom amount (USD)"
          type="number"
          min={10}
          max={10000}
          step={0.01}
          value={custom}
          onChange={(event) => setCustom(event.target.value)}
          error={fieldError(checkout.error, 'amount_cents')}
        />
        <Button type="submit" variant="secondary" disabled={!custom || checkout.isPending}>
          Add
        </Button>
      </form>
      <ErrorNote error={formError(checkout.error, ['amount_cents'])} />
    </Card>
  );
}

function AutoRefill() {
  const client = useQueryClient();
  const { can } = useCan();
  const settings = useQuery({
    queryKey: ['billing-settings'],
    queryFn: () => unwrap(api.billing.settings.$get()),
  });
  const save = useMutation({
    mutationFn: (body: BillingSettings['auto_refill']) =>
      unwrap(api.billing.settings.$put({ json: { auto_refill: body } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['billing-settings'] }),
  });
  const portal = useMutation({
    mutationFn: () => unwrap(api.billing.portal.$post()),
    onSuccess: (session) => window.location.assign(session.url),
  });
  if (settings.isPending)
    return (
      <Card title="Auto-refill">
        <Loading />
      </Card>
    );
  if (!settings.data)
    return (
      <Card title="Auto-refill">
        <ErrorNote error={settings.error} />
      </Card>
    );
  const { auto_refill: refill, payment_methods: cards } = settings.data;
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    save.mutate({
      enabled: form.get('enabled') === 'on',
      threshold_cents: dollarsToCents(Number(form.get('threshold'))),
      amount_cents: dollarsToCents(Number(form.get('amount'))),
    });
  };
  return (
    <Card
      title="Auto-refill"
      actions={
        can('billing.manage') && (
          <Button variant="secondary" onClick={() => portal.mutate()} disabled={portal.isPending}>
            Manage cards
          </Button>
        )
      }
    >
      <p className="mb-2 text-sm">
        {cards.length > 0
          ? `Saved card: ${cards[0]?.brand} •••• ${cards[0]?.last4}`
          : 'No saved card yet: add funds once to save one.'}
      </p>
      {/* Keyed by what is stored: a save the card declined (or a decline since) shows the switch off. */}
      <form key={JSON.stringify(refill)} onSubmit={submit}>
        {/* Shown to those who may read billing; changed only by those who may manage it. */}
        <fieldset disabled={!can('billing.manage')} className="grid gap-3 sm:grid-cols-3">
          <div className="flex items-center gap-2 text-sm sm:col-span-3">
            <Switch.Root
              id="auto-refill-enabled"
              name="enabled"
              defaultChecked={refill.enabled}
              className="h-5 w-9 rounded-full bg-slate-300 data-[state=checked]:bg-brand-600"
            >
              <Switch.Thumb className="block h-4 w-4 translate-x-0.5 rounded-full bg-white transition data-[state=checked]:translate-x-4" />
            </Switch.Root>
            <Label.Root htmlFor="auto-refill-enabled">Add funds automatically</Label.Root>
          </div>
          <Field
            label="When the balance drops below ($)"
            name="threshold"
            type="number"
            min={0}
            step={0.01}
            defaultValue={refill.threshold_cents / 100}
            error={fieldError(save.error, 'auto_refill.threshold_cents')}
          />
          <Field
            label="Add ($)"
            name="amount"
            type="number"
            min={10}
            step={0.01}
            defaultValue={refill.amount_cents / 100}
            error={fieldError(save.error, 'auto_refill.amount_cents')}
          />
          {can('billing.manage') && (
            <div className="flex items-end">
              <Button type="submit" disabled={save.isPending}>
                Save
              </Button>
            </div>
          )}
        </fieldset>
      </form>
      <p className="mt-2 text-xs text-slate-500">
        At most one automatic charge per hour. A declined charge turns auto-refill off until you turn it back
        on.
      </p>
      <ErrorNote
        error={
          formError(save.error, ['auto_refill.threshold_cents', 'auto_refill.amount_cents']) ?? portal.error
        }
      />
      {save.isSuccess &&
        (save.variables.enabled && !save.data.auto_refill.enabled ? (
          <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-400">
            Saved, but the card was declined, so auto-refill is off. Update the card, then turn it on again.
          </p>
        ) : (
          <p role="status" className="mt-2 text-sm text-emerald-700 dark:text-emerald-400">
            Saved.
          </p>
        ))}
    </Card>
  );
}

async function downloadCsv() {
  // A plain link could not name the org (x-org-id), so the file is fetched and saved from memory.
  const response = await api.billing.transactions.$get({ query: { format: 'csv' } });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: 'transactions.csv' });
  link.click();
  // Released after the click has handed the file over, not during it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export default function Billing() {
  const { can } = useCan();
  const [params] = useSearchParams();
  const checkout = params.get('checkout');
  const balance = useBalance(checkout === 'success');
  const client = useQueryClient();
  // The top-up's ledger line arrives with the credit: the list is re-read when the balance moves.
  const credited = balance.data?.balance_usd;
  useEffect(() => {
    if (checkout === 'success' && credited !== undefined)
      void client.invalidateQueries({ queryKey: ['transactions'] });
  }, [checkout, credited, client]);
  const usage = useUsage();
  const csv = useMutation({ mutationFn: downloadCsv });
  const lines = useInfiniteQuery({
    queryKey: ['transactions'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.billing.transactions.$get({ query: { limit: 20, ...(pageParam ? { after: pageParam } : {}) } }),
      ),
    getNextPageParam: (page) => (page.has_more ? page.data.at(-1)?.id : undefined),
  });
  return (
    <>
      <PageTitle>Billing</PageTitle>
      {checkout === 'success' && (
        <p
          role="status"
          className="mb-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300"
        >
          Payment received. Your balance updates as soon as Stripe confirms it.
        </p>
      )}
      {checkout === 'cancelled' && (
        <p role="status" className="mb-4 rounded-md bg-slate-100 px-3 py-2 text-sm dark:bg-slate-800">
          Checkout cancelled: nothing was charged.
        </p>
      )}
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title="Balance">
          <p className="text-3xl font-semibold" data-testid="balance">
            {balance.data ? usd(balance.data.balance_usd) : balance.error ? '—' : '…'}
          </p>
          <ErrorNote error={balance.error} />
          {balance.data && (
            <p className="text-sm text-slate-500">
              Running now: {usd(balance.data.running_cost_per_hour_usd)}/hr
            </p>
          )}
        </Card>
        {can('billing.manage') && (
          <div className="lg:col-span-2">
            <AddFunds />
          </div>
        )}
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        <AutoRefill />
        <Card title="This month">
          {usage.isPending && <Loading />}
          <ErrorNote error={usage.error} />
          {usage.data && (
            <>
              <p className="text-sm">
                {usd(usage.data.totals.spend_usd)} · {hours(usage.data.totals.gpu_hours)} GPU
                {usage.data.totals.average_cost_per_hour_usd !== null &&
                  ` · ${usd(usage.data.totals.average_cost_per_hour_usd)}/GPU-hour`}
              </p>
              <ul className="my-2 text-sm">
                {usage.data.by_service.map((row) => (
                  <li key={row.service} className="flex justify-between">
                    <span>{row.service.replaceAll('_', ' ')}</span>
                    <span>{usd(row.spend_usd)}</span>
                  </li>
                ))}
              </ul>
              <Suspense fallback={<Loading label="Loading chart…" />}>
                <SpendChart data={usage.data.by_day} />
              </Suspense>
            </>
          )}
        </Card>
      </div>
      <Card
        title="Transactions"
        className="mt-4"
        actions={
          <Button variant="secondary" disabled={csv.isPending} onClick={() => csv.mutate()}>
            Download CSV
          </Button>
        }
      >
        {lines.isPending && <Loading />}
        <ErrorNote error={lines.error ?? csv.error} />
        {lines.data?.pages[0]?.data.length === 0 && <Empty>No transactions yet.</Empty>}
        <ScrollTable label="Transactions table">
          <thead className="text-xs uppercase text-slate-500">
            <tr>
              <th className="py-2 pr-3">Date</th>
              <th className="pr-3">Description</th>
              <th className="pr-3 text-right">Amount</th>
              <th className="text-right">Balance</th>
            </tr>
          </thead>
          <tbody data-testid="transactions">
            {lines.data?.pages
              .flatMap((page) => page.data)
              .map((line) => (
                <tr key={line.id} className="border-t border-slate-100 dark:border-slate-800">
                  <td className="whitespace-nowrap py-2 pr-3">{dateTime(line.created_at)}</td>
                  <td className="pr-3">{line.description}</td>
                  <td
                    className={`pr-3 text-right ${line.amount_usd < 0 ? 'text-red-600' : 'text-emerald-700 dark:text-emerald-400'}`}
                  >
                    {usd(line.amount_usd)}
                  </td>
                  <td className="text-right">{usd(line.balance_after_usd)}</td>
                </tr>
              ))}
          </tbody>
        </ScrollTable>
        {lines.hasNextPage && (
          <Button
            variant="secondary"
            className="mt-3"
            onClick={() => void lines.fetchNextPage()}
            disabled={lines.isFetchingNextPage}
          >
            Load more
          </Button>
        )}
      </Card>
    </>
  );
}
