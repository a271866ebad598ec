/**
 * `npm run drill`: fault drills against the local stack, each ending in a verdict line, then
 * `N passed, N failed`; the exit code is 1 when any failed. Everything runs on loopback and stops by
 * itself. DRILL_SIZE=short runs the smaller set `npm test` runs.
 */
import { z } from 'zod';
import { FULL, runDrills, SHORT } from './drills.ts';
import { verdictLine } from './verdict.ts';

const { DRILL_SIZE } = z.object({ DRILL_SIZE: z.enum(['full', 'short']).default('full') }).parse(process.env);

const verdicts = await runDrills(DRILL_SIZE === 'short' ? SHORT : FULL, (verdict) =>
  console.log(verdictLine(verdict)),
);
const passed = verdicts.filter((verdict) => verdict.passed).length;
console.log(`\n${passed} passed, ${verdicts.length - passed} failed`);
// Connections a drill left open would keep the process alive.
process.exit(passed === verdicts.length ? 0 : 1);
