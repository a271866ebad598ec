import { sendChat } from '../bench/account.ts';

const MAX_ATTEMPTS = 12;

export interface Answer {
  jobId: string;
  costMicroUsd: number;
}

/**
 * One chat completion as a careful client sends it: with an Idempotency-Key, retried (with backoff)
 * on a 5xx or a dropped connection, so a retry joins the job instead of starting another. Answers
 * null when it never got a 200 (a 4xx, or every attempt failed).
 */
export async function callUntilAnswered(
  edge: string,
  key: string,
  idempotencyKey: string,
): Promise<Answer | null> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const response = await sendChat(edge, key, { idempotencyKey });
      await response.arrayBuffer();
      if (response.status === 200) {
        return {
          jobId: response.headers.get('x-job-id') ?? '',
          costMicroUsd: Math.round(Number(response.headers.get('x-cost-usd')) * 1_000_000),
        };
      }
      if (response.status < 500) return null;
    } catch {
      // The connection dropped: retried like a 5xx.
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** attempt)));
  }
  return null;
}

/** `count` calls, `connections` at a time, each with its own Idempotency-Key; answers in call order. */
export async function callMany(
  edge: string,
  key: string,
  options: { count: number; connections: number; run: string; onAnswer?: (answered: number) => void },
): Promise<(Answer | null)[]> {
  const answers: (Answer | null)[] = new Array(options.count).fill(null);
  let next = 0;
  let answered = 0;
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      for (let index = next++; index < options.count; index = next++) {
        answers[index] = await callUntilAnswered(edge, key, `${options.run}-${index}`);
        options.onAnswer?.(++answered);
      }
    }),
  );
  return answers;
}
