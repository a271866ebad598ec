import { describe, expect, it } from 'vitest';
import { runDrills, SHORT } from '../../dev/drill/drills.ts';
import { verdictLine } from '../../dev/drill/verdict.ts';

/** The short version of `npm run drill`: the same drills, smaller, against a whole local stack. */
describe('fault drills (short)', () => {
  it('keeps money and jobs right when events and messages repeat, workers die, Redis drops replies and the edge restarts', async () => {
    const verdicts = await runDrills(SHORT);
    const lines = verdicts.map(verdictLine);
    // Every drill reached a verdict, and each passed (the lines name the figures when one did not).
    expect(verdicts.map((verdict) => verdict.drill)).toEqual([
      'Stripe events delivered twice, shuffled',
      'orchestrator messages duplicated and delayed',
      'one of 4 workers killed every 2 s',
      'Redis replies dropped for 3 s',
      'edge restarted during streaming',
    ]);
    expect(lines.filter((line) => line.startsWith('FAIL'))).toEqual([]);
  }, 600_000);
});
