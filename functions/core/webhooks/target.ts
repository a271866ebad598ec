import { InvalidRequestError } from '../errors.ts';
import { publicUrlProblem } from '../public-url.ts';

/** A webhook URL must be public https (see `publicUrlProblem`); answers it normalised. */
export function checkWebhookTarget(raw: string, options: { allowPrivate: boolean }): string {
  const refuse = (why: string) => new InvalidRequestError(`webhook: ${why}`, { param: 'webhook' });
  if (raw.length > 2048) throw refuse('must be at most 2048 characters');
  const problem = publicUrlProblem(raw, options);
  if (problem) throw refuse(problem);
  return new URL(raw).toString();
}
