import * as Label from '@radix-ui/react-label';
import { type FormEvent, useState } from 'react';
import { Button, Card, ErrorNote, Field, fieldError, Loading, PageTitle } from '../components/ui.tsx';
import { usd } from '../lib/format.ts';
import { useCatalog, useDeploy, useGpus } from '../lib/queries.ts';

/** A model from the catalog, or a custom image, with every scaling knob and the cost as it changes. */
export default function NewDeployment() {
  const catalog = useCatalog();
  const gpus = useGpus();
  const deploy = useDeploy();
  const [source, setSource] = useState<'model' | 'image'>('model');
  const [model, setModel] = useState('llama-3.1-8b-instruct');
  const [gpu, setGpu] = useState('a10g');
  const [gpuCount, setGpuCount] = useState(1);
  const [minReplicas, setMin] = useState(0);
  const [maxReplicas, setMax] = useState(1);

  const card = catalog.data?.data.find((entry) => entry.slug === model);
  const gpuPrice = gpus.data?.data.find((entry) => entry.id === gpu)?.price_per_hour_usd.secure ?? 0;
  const perReplicaHour = source === 'model' ? (card?.price_per_hour_usd ?? 0) : gpuPrice * gpuCount;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;
    const knobs = {
      min_replicas: minReplicas,
      max_replicas: maxReplicas,
      idle_timeout_seconds: Number(form.idle_timeout_seconds),
      ...(form.name ? { name: form.name } : {}),
      ...(form.concurrency ? { concurrency_per_replica: Number(form.concurrency) } : {}),
    };
    deploy.mutate(
      source === 'model'
        ? { model, ...knobs }
        : {
            image: form.image,
            gpu_types: [gpu, ...(form.fallback ? [form.fallback] : [])],
            gpu_count: gpuCount,
            ...knobs,
          },
    );
  };

  const select =
    'rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900';
  return (
    <>
      <PageTitle>New endpoint</PageTitle>
      {(catalog.isPending || gpus.isPending) && <Loading />}
      <form onSubmit={submit} className="grid gap-4 lg:grid-cols-3">
        <Card title="What to run" className="lg:col-span-2">
          <fieldset className="mb-3 flex gap-4 text-sm">
            <legend className="sr-only">Source</legend>
            <label className="flex items-center gap-2">
              <input type="radio" checked={source === 'model'} onChange={() => setSource('model')} /> Catalog
              model
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" checked={source === 'image'} onChange={() => setSource('image')} /> Custom
              image
            </label>
          </fieldset>
          {source === 'model' ? (
            <div className="flex flex-col gap-1">
              <Label.Root htmlFor="model" className="text-sm font-medium">
                Model
              </Label.Root>
              <select
                id="model"
                className={select}
                value={model}
                onChange={(event) => setModel(event.target.value)}
              >
                {catalog.data?.data.map((entry) => (
                  <option key={entry.slug} value={entry.slug}>
                    {entry.name} — {usd(entry.price_per_hour_usd)}/hr on {entry.gpu.count} × {entry.gpu.name}
                  </option>
                ))}
              </select>
            </div>
          ) : (
            <div className="grid gap-3 sm:grid-cols-2">
              <Field
                label="Container image"
                name="image"
                placeholder="ghcr.io/you/server:1"
                required
                className="sm:col-span-2"
                error={fieldError(deploy.error, 'image')}
              />
              <div className="flex flex-col gap-1">
                <Label.Root htmlFor="gpu" className="text-sm font-medium">
                  GPU type
                </Label.Root>
                <select
                  id="gpu"
                  className={select}
                  value={gpu}
                  onChange={(event) => setGpu(event.target.value)}
                >
                  {gpus.data?.data.map((entry) => (
                    <option key={entry.id} value={entry.id}>
                      {entry.name} ({entry.memory_gb} GB)
                    </option>
                  ))}
                </select>
              </div>
              <div className="flex flex-col gap-1">
                <Label.Root htmlFor="fallback" className="text-sm font-medium">
                  Fallback GPU (optional)
                </Label.Root>
                <select id="fallback" name="fallback" className={select} defaultValue="">
                  <option value="">None</option>
                  {gpus.data?.data.map((entry) => (
                    <option key={entry.id} value={entry.id}>
                      {entry.name}
                    </option>
                  ))}
                </select>
              </div>
              <Field
                label="GPUs per replica"
                type="number"
                min={1}
                max={8}
                value={gpuCount}
                onChange={(event) => setGpuCount(Number(event.target.value))}
              />
            </div>
          )}
          <div className="mt-3 grid gap-3 sm:grid-cols-2">
            <Field
              label="Name (optional)"
              name="name"
              maxLength={100}
              error={fieldError(deploy.error, 'name')}
            />
            <Field
              label="Min replicas"
              type="number"
              min={0}
              max={10}
              value={minReplicas}
              onChange={(event) => setMin(Number(event.target.value))}
              hint="0 scales to zero when idle."
              error={fieldError(deploy.error, 'min_replicas')}
            />
            <Field
              label="Max replicas"
              type="number"
              min={1}
              max={20}
              value={maxReplicas}
              onChange={(event) => setMax(Number(event.target.value))}
              error={fieldError(deploy.error, 'max_replicas')}
            />
            <Field
              label="Idle timeout (seconds)"
              name="idle_timeout_seconds"
              type="number"
              min={10}
              max={86400}
              defaultValue={300}
              error={fieldError(deploy.error, 'idle_timeout_seconds')}
            />
            <Field
              label="Concurrent requests per replica"
              name="concurrency"
              type="number"
              min={1}
              max={256}
              placeholder="engine default"
              error={fieldError(deploy.error, 'concurrency_per_replica')}
            />
          </div>
        </Card>
        <Card title="Estimated cost">
          <dl className="text-sm" aria-live="polite">
            <dt className="text-slate-500">Per replica-hour</dt>
            <dd className="mb-2 text-2xl font-semibold">{usd(perReplicaHour)}</dd>
            <dt className="text-slate-500">Per day at min replicas ({minReplicas})</dt>
            <dd className="mb-2 font-medium">{usd(perReplicaHour * minReplicas * 24)}</dd>
            <dt className="text-slate-500">Per day at max replicas ({maxReplicas})</dt>
            <dd className="mb-2 font-medium">{usd(perReplicaHour * maxReplicas * 24)}</dd>
          </dl>
          <p className="text-xs text-slate-500">
            Billed per second of replica uptime, at least one minute per replica start.
          </p>
          <ErrorNote error={deploy.error} />
          <Button type="submit" className="mt-3 w-full" disabled={deploy.isPending}>
            {deploy.isPending ? 'Deploying…' : 'Deploy'}
          </Button>
        </Card>
      </form>
    </>
  );
}
