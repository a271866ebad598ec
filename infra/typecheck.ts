/**
 * `npm run typecheck:infra`: typechecks `sst.config.ts` and `infra/` against SST's platform types.
 * Those are written by `sst install` (providers from the npm registry, ~40 s the first time); no AWS
 * access or credentials are needed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const bin = (name: string) => resolve(root, 'node_modules/.bin', name);
const run = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(resolve(root, '.sst/platform/config.d.ts'))) {
  run(bin('sst'), ['install'], {
    SST_STAGE: process.env.SST_STAGE ?? 'typecheck',
    SST_NO_BUN: '1',
    SST_SKIP_DEPENDENCY_CHECK: '1',
    SST_TELEMETRY_DISABLED: '1',
  });
}
run(bin('tsc'), ['-p', 'infra/tsconfig.json']);
