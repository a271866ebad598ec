/**
 * `npm run deploy:schedules`: creates (or updates) the orchestrator's minute schedule in QStash for
 * the deployed edge. Reads QSTASH_TOKEN, PUBLIC_URL and optionally QSTASH_URL from the environment.
 */
import { Client } from '@upstash/qstash';
import { z } from 'zod';
import { ensureReconcileSchedule } from './schedule.ts';

const env = z
  .object({
    QSTASH_TOKEN: z.string().min(1, 'is required (the QStash token)'),
    QSTASH_URL: z.url().default('https://qstash.upstash.io'),
    PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be the edge URL, e.g. https://api.aicloud.dev' }),
  })
  .safeParse(process.env);
if (!env.success) {
  console.error(env.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('\n'));
  process.exit(1);
}
await ensureReconcileSchedule(
  new Client({ baseUrl: env.data.QSTASH_URL, token: env.data.QSTASH_TOKEN }),
  env.data.PUBLIC_URL,
);
console.log(`reconcile schedule set: every minute → ${env.data.PUBLIC_URL}`);
