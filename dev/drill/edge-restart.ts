import { createParser } from 'eventsource-parser';
import { deployWarm, keySpendMicroUsd, sendChat } from '../bench/account.ts';
import type { MockEngine } from '../bench/mock-engine.ts';
import type { RunningStack } from '../bench/stacks.ts';

/** How long a cut stream may take to tell its client; longer counts as hanging. */
const CUT_NOTICE_MS = 15_000;

interface StreamOutcome {
  jobId: string | null;
  deltas: number;
  /** `done`: [DONE] after the deltas; `error`: the read failed or an error frame came; `hung`. */
  ended: 'done' | 'error' | 'hung';
  costMicroUsd: number;
}

async function stream(edge: string, key: string, idempotencyKey: string): Promise<StreamOutcome> {
  const outcome: StreamOutcome = { jobId: null, deltas: 0, ended: 'error', costMicroUsd: 0 };
  const abort = new AbortController();
  const timer = setTimeout(() => {
    outcome.ended = 'hung';
    abort.abort();
  }, CUT_NOTICE_MS);
  try {
    const response = await sendChat(edge, key, {
      idempotencyKey,
      body: {
        messages: [{ role: 'user', content: 'Count slowly.' }],
        stream: true,
        stream_options: { include_usage: true },
      },
      signal: abort.signal,
    });
    outcome.jobId = response.headers.get('x-job-id');
    if (!response.ok || !response.body) return outcome;
    let done = false;
    let failed = false;
    const parser = createParser({
      onEvent: (event) => {
        if (event.data === '[DONE]') {
          done = true;
          return;
        }
        const frame = JSON.parse(event.data) as {
          error?: unknown;
          choices?: { delta?: { content?: string } }[];
          usage?: { cost_usd?: number };
        };
        if (frame.error) failed = true;
        if (frame.choices?.[0]?.delta?.content) outcome.deltas++;
        if (frame.usage?.cost_usd !== undefined)
          outcome.costMicroUsd = Math.round(frame.usage.cost_usd * 1_000_000);
      },
    });
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      parser.feed(decoder.decode(read.value, { stream: true }));
    }
    if (done && !failed) outcome.ended = 'done';
  } catch {
    // The connection was cut (or, past CUT_NOTICE_MS, aborted here as hung).
  } finally {
    clearTimeout(timer);
  }
  return outcome;
}

/**
 * `streams` streamed completions (each with an Idempotency-Key) are cut by an abrupt restart of the
 * edge: each client must learn promptly that its stream broke (not hang), and a retry with the same
 * key, once the edge is back, must get the whole answer of the same job. The key's metered spend must
 * equal the jobs' costs: nothing charged twice.
 */
export async function edgeRestart(
  stack: RunningStack,
  token: string,
  engine: MockEngine,
  options: { streams: number; deltas: number; intervalMs: number },
) {
  const deployment = await deployWarm(stack, token, { replicas: 1, concurrencyPerReplica: 64 });
  await engine.pace({ deltas: options.deltas, intervalMs: options.intervalMs });
  const spend = () => keySpendMicroUsd(stack, token, deployment.keyId);
  const spentBefore = await spend();
  const run = `restart-${Date.now()}`;
  const keys = Array.from({ length: options.streams }, (_, index) => `${run}-${index}`);
  const first = Promise.all(keys.map((key) => stream(stack.edge, deployment.key, key)));
  // Mid-stream: every stream has started and none has finished.
  await new Promise((resolve) => setTimeout(resolve, (options.deltas * options.intervalMs) / 3));
  await stack.restartEdge();
  const cut = await first;
  const retried = await Promise.all(keys.map((key) => stream(stack.edge, deployment.key, key)));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const spent = (await spend()) - spentBefore;
  const charged = retried.reduce((sum, outcome) => sum + outcome.costMicroUsd, 0);
  const cleanCuts = cut.filter((outcome) => outcome.ended === 'error').length;
  const hung = cut.filter((outcome) => outcome.ended === 'hung').length;
  const whole = retried.filter(
    (outcome, index) =>
      outcome.ended === 'done' && outcome.deltas === options.deltas && outcome.jobId === cut[index]?.jobId,
  ).length;
  const chargedOnce = Math.abs(spent - charged) <= options.streams;
  // Why a retry fell short, when one did: how it ended, or what it got.
  const shortfalls = retried.flatMap((outcome, index) =>
    outcome.ended !== 'done'
      ? [`${outcome.ended}`]
      : outcome.jobId !== cut[index]?.jobId
        ? ['another job']
        : outcome.deltas !== options.deltas
          ? [`${outcome.deltas}/${options.deltas} deltas`]
          : [],
  );
  return {
    passed: cleanCuts === options.streams && whole === options.streams && chargedOnce,
    detail:
      `${options.streams} streams cut by an edge restart: ${cleanCuts} ended with an error, ${hung} hung; ` +
      `${whole} retries got their whole job${shortfalls.length > 0 ? ` (others: ${shortfalls.join(', ')})` : ''}; key spend $${(spent / 1e6).toFixed(6)} for jobs costing ` +
      `$${(charged / 1e6).toFixed(6)}${chargedOnce ? '' : ' (MISMATCH)'}`,
  };
}
