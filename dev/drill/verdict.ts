/** The outcome of one fault drill: what was done, what was expected, what was seen. */
export interface Verdict {
  drill: string;
  passed: boolean;
  /** The figures the verdict rests on, in a sentence. */
  detail: string;
  seconds: number;
}

/** A drill's verdict line, as `npm run drill` prints it. */
export const verdictLine = (verdict: Verdict) =>
  `${verdict.passed ? 'PASS' : 'FAIL'}  ${verdict.drill} (${verdict.seconds.toFixed(1)} s): ${verdict.detail}`;

/** Runs a drill, timing it; a drill that throws has failed, with the error as its detail. */
export async function runDrill(drill: string, run: () => Promise<Omit<Verdict, 'drill' | 'seconds'>>) {
  const started = performance.now();
  let outcome: Omit<Verdict, 'drill' | 'seconds'>;
  try {
    outcome = await run();
  } catch (error) {
    outcome = { passed: false, detail: `did not complete: ${(error as Error).message}` };
  }
  return { drill, ...outcome, seconds: (performance.now() - started) / 1000 } satisfies Verdict;
}

/** Fisher–Yates: the order in which a drill delivers its duplicated messages. */
export function shuffle<T>(items: T[], random: () => number = Math.random): T[] {
  const shuffled = [...items];
  for (let index = shuffled.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other] as T, shuffled[index] as T];
  }
  return shuffled;
}
