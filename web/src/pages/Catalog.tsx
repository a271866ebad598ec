import * as Tabs from '@radix-ui/react-tabs';
import { useState } from 'react';
import { Button, Card, ErrorNote, Field, Loading, PageTitle } from '../components/ui.tsx';
import { usd } from '../lib/format.ts';
import { useCatalog, useDeploy } from '../lib/queries.ts';
import { useCan } from '../lib/session.ts';

const CATEGORIES = [
  ['llm', 'Language models'],
  ['embedding', 'Embeddings'],
  ['transcription', 'Transcription'],
  ['speech', 'Speech'],
  ['image', 'Images'],
] as const;

/** GPU-hours against per-token pricing at the user's own volume. */
function CostComparison({ pricePerHour }: { pricePerHour: number }) {
  const [tokensMillions, setTokens] = useState(100);
  const [perMillion, setPerMillion] = useState(0.6);
  const [hoursPerDay, setHours] = useState(8);
  const gpuMonthly = pricePerHour * hoursPerDay * 30;
  const tokenMonthly = tokensMillions * perMillion;
  return (
    <Card title="Cost comparison">
      <div className="grid gap-3 sm:grid-cols-3">
        <Field
          label="Tokens per month (millions)"
          type="number"
          min={0}
          value={tokensMillions}
          onChange={(event) => setTokens(Number(event.target.value))}
        />
        <Field
          label="Per-token price ($ per 1M)"
          type="number"
          min={0}
          step={0.01}
          value={perMillion}
          onChange={(event) => setPerMillion(Number(event.target.value))}
        />
        <Field
          label="Endpoint hours per day"
          type="number"
          min={0}
          max={24}
          value={hoursPerDay}
          onChange={(event) => setHours(Number(event.target.value))}
        />
      </div>
      <p className="mt-3 text-sm" aria-live="polite">
        Per-token: <strong>{usd(tokenMonthly)}</strong>/month · GPU endpoint at {usd(pricePerHour)}/hr:{' '}
        <strong>{usd(gpuMonthly)}</strong>/month
        {' · '}
        {gpuMonthly < tokenMonthly
          ? 'the GPU endpoint is cheaper at this volume.'
          : 'per-token is cheaper at this volume; scale to zero narrows the gap.'}
      </p>
    </Card>
  );
}

export default function Catalog() {
  const catalog = useCatalog();
  const deploy = useDeploy();
  const { can } = useCan();
  const firstLlm = catalog.data?.data.find((model) => model.category === 'llm');
  return (
    <>
      <PageTitle>Catalog</PageTitle>
      {catalog.isPending && <Loading />}
      <ErrorNote error={catalog.error ?? deploy.error} />
      <Tabs.Root defaultValue="llm">
        <Tabs.List
          aria-label="Model categories"
          className="mb-4 flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800"
        >
          {CATEGORIES.map(([value, label]) => (
            <Tabs.Trigger
              key={value}
              value={value}
              className="rounded-t-md px-3 py-2 text-sm data-[state=active]:border-b-2 data-[state=active]:border-brand-600 data-[state=active]:font-medium"
            >
              {label}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        {CATEGORIES.map(([value]) => (
          <Tabs.Content key={value} value={value} className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {catalog.data?.data
              .filter((model) => model.category === value)
              .map((model) => (
                <Card key={model.slug} title={model.name}>
                  <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">{model.description}</p>
                  <p className="text-2xl font-semibold">
                    {usd(model.price_per_hour_usd)}
                    <span className="text-sm font-normal text-slate-500">/hr</span>
                  </p>
                  <p className="text-xs text-slate-500">
                    {model.gpu.count} × {model.gpu.name} ({model.gpu.memory_gb} GB) · billed per second, min 1
                    minute
                  </p>
                  {can('endpoint.manage') && (
                    <Button
                      className="mt-3 w-full"
                      disabled={deploy.isPending}
                      onClick={() => deploy.mutate({ model: model.slug })}
                      aria-label={`Deploy ${model.name}`}
                    >
                      Deploy
                    </Button>
                  )}
                </Card>
              ))}
          </Tabs.Content>
        ))}
      </Tabs.Root>
      {firstLlm && (
        <div className="mt-6">
          <CostComparison pricePerHour={firstLlm.price_per_hour_usd} />
        </div>
      )}
    </>
  );
}
