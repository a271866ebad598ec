import type { TestProject } from 'vitest/node';
import { startTestCloud } from './cloud.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    edgeEnv: Record<string, string>;
    mailOutboxUrl: string;
    stripeUrl: string;
  }
}

/** One local cloud for the whole run; every test file reads its env with `inject('edgeEnv')`. */
export default async function setup(project: TestProject) {
  const cloud = await startTestCloud();
  project.provide('edgeEnv', cloud.edgeEnv);
  project.provide('mailOutboxUrl', cloud.mailOutboxUrl);
  project.provide('stripeUrl', cloud.stripeUrl ?? '');
  return () => cloud.stop();
}
